package records

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// The strict parser of edxml.go's packages and status messages.

// Parsed is what ParseEdXML found: a package or a status message.
type Parsed struct {
	Package *Package
	Status  *StatusMessage
}

// errMalformed wraps what is wrong with a package's XML.
func errMalformed(why string) error {
	return fmt.Errorf("%w: the edXML package is refused: %s", errs.ErrInvalid, why)
}

// ParseEdXML parses a package or status message strictly (see the file
// comment). Every refusal wraps errs.ErrInvalid, or errs.ErrTooLarge for
// one over MaxPackageBytes, and says what is wrong.
func ParseEdXML(data []byte) (*Parsed, error) {
	if len(data) > MaxPackageBytes {
		return nil, fmt.Errorf("%w: the edXML package is %d bytes, at most %d accepted", errs.ErrTooLarge, len(data), MaxPackageBytes)
	}
	root, err := parseTree(data)
	if err != nil {
		return nil, err
	}
	if root.name != "edXMLEnvelope" {
		return nil, errMalformed(fmt.Sprintf("the root element is <%s>, not <edXMLEnvelope>", root.name))
	}
	if err := root.only("edXMLHeader", "edXMLManifest"); err != nil {
		return nil, err
	}
	header, err := root.one("edXMLHeader")
	if err != nil {
		return nil, err
	}
	if err := header.only("MessageHeader", "Status"); err != nil {
		return nil, err
	}
	if len(header.kids) != 1 {
		return nil, errMalformed("<edXMLHeader> holds exactly one <MessageHeader> or <Status>")
	}
	if header.kids[0].name == "Status" {
		if len(root.kids) != 1 {
			return nil, errMalformed("a status message has no manifest")
		}
		m, err := parseStatus(header.kids[0])
		if err != nil {
			return nil, err
		}
		return &Parsed{Status: m}, nil
	}
	p, err := parseHeader(header.kids[0])
	if err != nil {
		return nil, err
	}
	manifest, err := root.optional("edXMLManifest")
	if err != nil {
		return nil, err
	}
	if manifest != nil {
		if err := manifest.only("Attachment"); err != nil {
			return nil, err
		}
		if len(manifest.kids) > maxAttachments {
			return nil, errMalformed(fmt.Sprintf("at most %d attachments", maxAttachments))
		}
		for _, a := range manifest.kids {
			f, err := parseAttachment(a)
			if err != nil {
				return nil, err
			}
			p.Files = append(p.Files, f)
		}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &Parsed{Package: p}, nil
}

func parseHeader(h *xnode) (*Package, error) {
	if err := h.only("From", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject", "SteeringType", "OtherInfo", "DueDate"); err != nil {
		return nil, err
	}
	p := &Package{}
	var err error
	if p.From, err = parseOrgan(h, "From"); err != nil {
		return nil, err
	}
	if p.To, err = parseOrgan(h, "To"); err != nil {
		return nil, err
	}
	if p.ID, err = h.text("DocumentId"); err != nil {
		return nil, err
	}
	code, err := h.one("Code")
	if err != nil {
		return nil, err
	}
	if err := code.only("CodeNumber", "CodeNotation"); err != nil {
		return nil, err
	}
	num, err := code.text("CodeNumber")
	if err != nil {
		return nil, err
	}
	notation, err := code.text("CodeNotation")
	if err != nil {
		return nil, err
	}
	p.Number = num + "/" + notation
	info, err := h.one("PromulgationInfo")
	if err != nil {
		return nil, err
	}
	if err := info.only("Place", "PromulgationDate"); err != nil {
		return nil, err
	}
	if p.Place, err = info.text("Place"); err != nil {
		return nil, err
	}
	if p.Date, err = info.date("PromulgationDate", true); err != nil {
		return nil, err
	}
	dt, err := h.one("DocumentType")
	if err != nil {
		return nil, err
	}
	if err := dt.only("Type", "TypeName"); err != nil {
		return nil, err
	}
	if p.Type, err = dt.text("Type"); err != nil {
		return nil, err
	}
	if _, err := dt.text("TypeName"); err != nil {
		return nil, err
	}
	if p.Subject, err = h.text("Subject"); err != nil {
		return nil, err
	}
	steering, err := h.number("SteeringType", 1)
	if err != nil {
		return nil, err
	}
	p.Steering = steering == 1
	other, err := h.one("OtherInfo")
	if err != nil {
		return nil, err
	}
	if err := other.only("Priority", "SecretLevel"); err != nil {
		return nil, err
	}
	urgency, err := other.number("Priority", int(Flash))
	if err != nil {
		return nil, err
	}
	level, err := other.number("SecretLevel", int(authz.TopSecret))
	if err != nil {
		return nil, err
	}
	p.Urgency, p.Level = Urgency(urgency), authz.Level(level)
	if p.DueDate, err = h.date("DueDate", false); err != nil {
		return nil, err
	}
	return p, nil
}

func parseAttachment(a *xnode) (Attachment, error) {
	var f Attachment
	if err := a.only("AttachmentName", "ContentType", "Size", "SHA256", "Content"); err != nil {
		return f, err
	}
	var err error
	if f.Name, err = a.text("AttachmentName"); err != nil {
		return f, err
	}
	if f.MediaType, err = a.text("ContentType"); err != nil {
		return f, err
	}
	size, err := a.number("Size", MaxContent)
	if err != nil {
		return f, err
	}
	sum, err := a.text("SHA256")
	if err != nil {
		return f, err
	}
	if f.SHA256, err = hex.DecodeString(sum); err != nil || len(f.SHA256) != sha256.Size {
		return f, errMalformed(fmt.Sprintf("the SHA256 of file %q is not 64 hexadecimal digits", clipName(f.Name)))
	}
	content, err := a.text("Content")
	if err != nil {
		return f, err
	}
	if f.Data, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(content), "")); err != nil {
		return f, errMalformed(fmt.Sprintf("the content of file %q is not base64", clipName(f.Name)))
	}
	if len(f.Data) != size {
		return f, fmt.Errorf("%w: file %q is %d bytes, its package says %d: the package was altered or damaged on its way", errs.ErrInvalid, clipName(f.Name), len(f.Data), size)
	}
	return f, nil
}

// clipName clips a name from a package for an error message (clip, in
// extract.go, keeps it valid UTF-8).
func clipName(s string) string {
	if len(s) > 64 {
		return clip(s, 64) + "…"
	}
	return s
}

func parseStatus(s *xnode) (*StatusMessage, error) {
	if err := s.only("From", "To", "StatusId", "DocumentId", "StatusCode", "Description", "Timestamp"); err != nil {
		return nil, err
	}
	m := &StatusMessage{}
	var err error
	if m.From, err = parseOrgan(s, "From"); err != nil {
		return nil, err
	}
	if m.To, err = parseOrgan(s, "To"); err != nil {
		return nil, err
	}
	if m.ID, err = s.text("StatusId"); err != nil {
		return nil, err
	}
	if m.PackageID, err = s.text("DocumentId"); err != nil {
		return nil, err
	}
	code, err := s.text("StatusCode")
	if err != nil {
		return nil, err
	}
	var ok bool
	if m.Status, ok = statusOfCode(code); !ok {
		return nil, errMalformed(fmt.Sprintf("unknown StatusCode %q", clipName(code)))
	}
	if m.Description, err = s.text("Description"); err != nil {
		return nil, err
	}
	at, err := s.text("Timestamp")
	if err != nil {
		return nil, err
	}
	if m.At, err = time.Parse(time.RFC3339, at); err != nil {
		return nil, errMalformed("Timestamp is not a time such as 2026-12-06T09:30:00Z")
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

func parseOrgan(n *xnode, name string) (Organ, error) {
	o, err := n.one(name)
	if err != nil {
		return Organ{}, err
	}
	if err := o.only("OrganId", "OrganName"); err != nil {
		return Organ{}, err
	}
	var out Organ
	if out.ID, err = o.text("OrganId"); err != nil {
		return out, err
	}
	out.Name, err = o.text("OrganName")
	return out, err
}

// xnode is an element of a parsed package: its local name, its text
// (leaves only) and its children.
type xnode struct {
	name string
	body strings.Builder
	kids []*xnode
}

// parseTree reads data into a tree, refusing what the shape does not
// allow: a DOCTYPE or any other directive (so no entity is declared, and
// none but XML's five predefined ones is expanded), processing
// instructions other than the declaration, attributes other than the
// namespace, elements outside the namespace, text beside elements, and a
// tree deeper or larger than the shape needs.
func parseTree(data []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	// A declared encoding other than UTF-8 is refused: no CharsetReader.
	var root *xnode
	var stack []*xnode
	elements := 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errMalformed("not well-formed XML: " + clipName(err.Error()))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if root != nil && len(stack) == 0 {
				return nil, errMalformed("more than one root element")
			}
			if len(stack) >= maxXMLDepth || elements > maxXMLElements {
				return nil, errMalformed("the element tree is deeper or larger than a package's")
			}
			if t.Name.Space != "" {
				return nil, errMalformed(fmt.Sprintf("element <%s:%s>: prefixes are not used in a package", clipName(t.Name.Space), clipName(t.Name.Local)))
			}
			for _, a := range t.Attr {
				if !(len(stack) == 0 && a.Name.Space == "" && a.Name.Local == "xmlns" && a.Value == EdXMLNamespace) {
					return nil, errMalformed(fmt.Sprintf("attribute %q on <%s>: a package's elements carry none but the root's namespace", clipName(a.Name.Local), clipName(t.Name.Local)))
				}
			}
			if len(stack) == 0 && len(t.Attr) != 1 {
				return nil, errMalformed("the root element must declare the namespace " + EdXMLNamespace)
			}
			n := &xnode{name: t.Name.Local}
			if len(stack) == 0 {
				root = n
			} else {
				parent := stack[len(stack)-1]
				if strings.TrimSpace(parent.body.String()) != "" {
					return nil, errMalformed(fmt.Sprintf("<%s> holds both text and elements", parent.name))
				}
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			// RawToken does not match end tags to start tags; do it here.
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name.Local || t.Name.Space != "" {
				return nil, errMalformed(fmt.Sprintf("unexpected end tag </%s>", clipName(t.Name.Local)))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, errMalformed("text outside the root element")
				}
				continue
			}
			top := stack[len(stack)-1]
			if len(top.kids) > 0 && len(bytes.TrimSpace(t)) != 0 {
				return nil, errMalformed(fmt.Sprintf("<%s> holds both text and elements", top.name))
			}
			top.body.Write(t)
		case xml.Comment:
		case xml.ProcInst:
			if t.Target != "xml" || root != nil {
				return nil, errMalformed("processing instructions are not allowed")
			}
			if enc := procInstEncoding(string(t.Inst)); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return nil, errMalformed(fmt.Sprintf("encoding %q: a package is UTF-8", clipName(enc)))
			}
		case xml.Directive:
			return nil, errMalformed("DOCTYPE and other declarations are not allowed (no entities)")
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, errMalformed("the document is empty or not closed")
	}
	return root, nil
}

// procInstEncoding returns the encoding an XML declaration names.
func procInstEncoding(inst string) string {
	_, after, ok := strings.Cut(inst, "encoding=")
	if !ok || after == "" {
		return ""
	}
	q := after[0]
	end := strings.IndexByte(after[1:], q)
	if end < 0 {
		return after
	}
	return after[1 : 1+end]
}

// only refuses a child not named in names.
func (n *xnode) only(names ...string) error {
	for _, k := range n.kids {
		known := false
		for _, name := range names {
			known = known || k.name == name
		}
		if !known {
			return errMalformed(fmt.Sprintf("<%s> has no element <%s>", n.name, clipName(k.name)))
		}
	}
	return nil
}

// optional returns the child named name, nil if none; twice is refused.
func (n *xnode) optional(name string) (*xnode, error) {
	var found *xnode
	for _, k := range n.kids {
		if k.name == name {
			if found != nil {
				return nil, errMalformed(fmt.Sprintf("<%s> appears twice in <%s>", name, n.name))
			}
			found = k
		}
	}
	return found, nil
}

// one returns the child named name, which must appear exactly once.
func (n *xnode) one(name string) (*xnode, error) {
	k, err := n.optional(name)
	if err == nil && k == nil {
		err = errMalformed(fmt.Sprintf("<%s> lacks <%s>", n.name, name))
	}
	return k, err
}

// text returns the text of the leaf child named name, trimmed.
func (n *xnode) text(name string) (string, error) {
	k, err := n.one(name)
	if err != nil {
		return "", err
	}
	if len(k.kids) > 0 {
		return "", errMalformed(fmt.Sprintf("<%s> holds elements, not text", name))
	}
	return strings.TrimSpace(k.body.String()), nil
}

// number returns the leaf child name as a whole number from 0 to max.
func (n *xnode) number(name string, max int) (int, error) {
	s, err := n.text(name)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > max || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0 {
		return 0, errMalformed(fmt.Sprintf("<%s> must be a whole number from 0 to %d", name, max))
	}
	return v, nil
}

// date returns the leaf child name as a date (YYYY-MM-DD); a missing
// optional one is the zero time.
func (n *xnode) date(name string, required bool) (time.Time, error) {
	if !required {
		if k, err := n.optional(name); err != nil || k == nil {
			return time.Time{}, err
		}
	}
	s, err := n.text(name)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, errMalformed(fmt.Sprintf("<%s> is not a date such as 2026-12-06", name))
	}
	return t, nil
}
