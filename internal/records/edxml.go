package records

// Documents sent to and received from other agencies and missions travel
// as edXML-shaped packages, with status messages coming back as the
// recipient handles them (QCVN 102:2016/BTTTT, "identifier code and data
// format of message for interconnection of document management and
// administration systems", issued by Circular 10/2016/TT-BTTTT and amended
// by Amendment 1:2022 under Circular 01/2022/TT-BTTTT of 17 February 2022).
//
// What was checked with the search tool on 6 December 2026, and what not:
//   - The regulation, its amendment of 2022 and their titles: verified
//     (luatvietnam.vn, vanbanphapluat.co, lawnet.vn).
//   - The amendment takes the organisations' identifier codes (mã định
//     danh) from Decision 20/2020/QĐ-TTg (Articles 4–6): verified
//     (lawnet.vn's summary of the amendment). The code's exact grammar was
//     not: checkOrganID accepts four dot-separated groups of letters and
//     digits, as the ministry's codes (000.00.03.G12) are written.
//   - The regulation "does not govern the exchange of secret documents
//     over networks" (lib.hcmut.edu.vn's summary of QCVN 102:2016):
//     verified as quoted. A classified package here goes only through the
//     ministry's own exchange, sealed end to end and only to a member
//     cleared for its level (edxml_send.go); its SecretLevel element is
//     this system's, not the standard's.
//   - The element names, checked again with the search tool on 6 December
//     2026 against two public implementations that cite the regulation
//     (a Java gateway parser of the national axis's packages, namespace
//     http://www.mic.gov.vn/TBT/QCVN_102_2016, and Bkav's eDoc SDK; the
//     regulation's own XSD was not found in any corpus). They agree with
//     this file on MessageHeader's From and To (OrganId, OrganName),
//     DocumentId, Code (CodeNumber, CodeNotation), PromulgationInfo
//     (Place, PromulgationDate), DocumentType (Type, TypeName), Subject
//     and SteeringType. They differ on the wrapping, which this file
//     does not follow yet: an edXML root around edXMLEnvelope; the files
//     listed in edXMLBody/edXMLManifest as Reference (ContentId,
//     ContentType, AttachmentName) and carried outside the envelope in
//     AttachmentEncoded/Attachment (ContentId, ContentTransferEncoded);
//     a status message as MessageStatus with ResponseFor (OrganId, Code,
//     PromulgationDate, DocumentId) and StaffInfo instead of To, StatusId
//     and DocumentId; and DocumentType/Type holding a numeric code, not
//     this system's key. Packages are stored sealed as received and
//     parsed again at registration, so the change needs a parser of both
//     shapes: left for the session that connects a system outside the
//     ministry.
//   - The status codes (statusCodes): 01 đã đến, 02 từ chối tiếp nhận,
//     03 đã tiếp nhận, 04 phân công, 05 đang xử lý, 06 hoàn thành and 13
//     lấy lại agree with the same implementations' status messages (a
//     C# client of the axis sends exactly these for arrival, refusal,
//     acceptance, assignment, handling, completion and recall); the
//     regulation's own table was not found.
//
// The shape is strict, because a package comes from outside: parsing
// refuses anything but the elements below, each where and as often as it
// belongs, any attribute, any DOCTYPE or entity declaration, text outside
// the leaves, a file whose checksum or size does not match, and a
// document code that does not parse as a number and symbol.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// EdXMLNamespace is the packages' XML namespace (see the file comment:
// taken from implementations, not verified).
const EdXMLNamespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

// EdXMLContentType is the media type packages and status messages travel
// under through the exchange.
const EdXMLContentType = "application/xml"

// Limits on a package.
const (
	// MaxPackageBytes bounds a package as received: the exchange's
	// default message limit (registry.DefaultMaxMessageBytes).
	MaxPackageBytes = 25 << 20
	// maxAttachments bounds a package's files.
	maxAttachments = 10
	// maxXMLDepth and maxXMLElements bound the tree a parser builds.
	maxXMLDepth    = 8
	maxXMLElements = 200
)

// Organ is an organisation in a package: its identifier code (mã định
// danh, Decision 20/2020/QĐ-TTg) and name.
type Organ struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Attachment is a file of a package.
type Attachment struct {
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Data      []byte `json:"-"`
	// SHA256 is the file's digest as the package declares it, checked
	// against Data when parsed.
	SHA256 []byte `json:"sha256"`
}

// Package is a document as it travels between document systems.
type Package struct {
	// ID is the package's DocumentId: a UUID the sender draws, one per
	// recipient, by which status messages name it.
	ID   string `json:"id"`
	From Organ  `json:"from"`
	To   Organ  `json:"to"`
	// Number is the document's number and symbol (CodeNumber "/"
	// CodeNotation), which must parse (ParseNumberSymbol).
	Number string `json:"number"`
	// Type is the document type's key (rules.go); it must agree with the
	// number and symbol's.
	Type    string    `json:"type"`
	Place   string    `json:"place"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
	// Steering is true for a document of direction (văn bản chỉ đạo), to
	// be acted on rather than only known.
	Steering bool         `json:"steering"`
	Urgency  Urgency      `json:"urgency"`
	Level    authz.Level  `json:"level"`
	DueDate  time.Time    `json:"due_date,omitzero"`
	Files    []Attachment `json:"files"`
}

// DeliveryStatus is where a package stands with its recipient.
type DeliveryStatus string

// The statuses. Queued, Sent and Failed are the sender's own; the others
// travel in status messages (statusCodes).
const (
	DeliveryQueued     DeliveryStatus = "queued"
	DeliverySent       DeliveryStatus = "sent"
	DeliveryFailed     DeliveryStatus = "failed"
	DeliveryReceived   DeliveryStatus = "received"
	DeliveryAccepted   DeliveryStatus = "accepted"
	DeliveryAssigned   DeliveryStatus = "assigned"
	DeliveryInProgress DeliveryStatus = "in_progress"
	DeliveryDone       DeliveryStatus = "done"
	DeliveryReturned   DeliveryStatus = "returned"
	DeliveryRecalled   DeliveryStatus = "recalled"
)

// statusCodes are the StatusCode values of status messages. Not verified
// (see the file comment).
var statusCodes = map[DeliveryStatus]string{
	DeliveryReceived:   "01", // đã đến: arrived at the recipient's system
	DeliveryReturned:   "02", // từ chối tiếp nhận: returned by the records office
	DeliveryAccepted:   "03", // đã tiếp nhận: registered in the incoming register
	DeliveryAssigned:   "04", // phân công: the leader's instruction assigns it
	DeliveryInProgress: "05", // đang xử lý: its handling has begun
	DeliveryDone:       "06", // hoàn thành: handled
	DeliveryRecalled:   "13", // lấy lại: the sender recalls it
}

// statusOfCode returns the status a code stands for.
func statusOfCode(code string) (DeliveryStatus, bool) {
	for s, c := range statusCodes {
		if c == code {
			return s, true
		}
	}
	return "", false
}

// StatusMessage says what became of a package: sent by its recipient
// (received … done, returned) or by its sender (recalled).
type StatusMessage struct {
	// ID is the status message's own UUID, so that a copy delivered twice
	// counts once.
	ID string `json:"id"`
	// PackageID is the DocumentId of the package it is about.
	PackageID string         `json:"package_id"`
	From      Organ          `json:"from"`
	To        Organ          `json:"to"`
	Status    DeliveryStatus `json:"status"`
	// Description is the reason of a return or recall, or a note.
	Description string    `json:"description,omitempty"`
	At          time.Time `json:"at"`
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// checkUUID accepts a UUID in its canonical lower-case form.
func checkUUID(field, s string) error {
	if len(s) != 36 {
		return errs.Invalid(field, "must be a UUID such as 7d1c4e52-3f0a-4b8e-9c61-2a5f0e9b1d37")
	}
	for i, r := range s {
		dash := i == 8 || i == 13 || i == 18 || i == 23
		if dash != (r == '-') || !dash && !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return errs.Invalid(field, "must be a UUID such as 7d1c4e52-3f0a-4b8e-9c61-2a5f0e9b1d37")
		}
	}
	return nil
}

// checkOrganID accepts an identifier code: four groups of capital
// letters and digits joined by dots (000.00.03.G12), at most 32 bytes.
func checkOrganID(field, s string) error {
	groups := strings.Split(s, ".")
	ok := len(s) <= 32 && len(groups) == 4
	for _, g := range groups {
		ok = ok && g != ""
		for _, r := range g {
			ok = ok && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z')
		}
	}
	if !ok {
		return errs.Invalid(field, fmt.Sprintf("%q is not an identifier code such as 000.00.03.G12", s))
	}
	return nil
}

func (o Organ) check(field string) error {
	if err := checkOrganID(field+".id", o.ID); err != nil {
		return err
	}
	return checkLine(field+".name", o.Name, maxLine, true)
}

// checkParties checks the ids and parties a package and a status
// message both carry.
func checkParties(idField, id string, from, to Organ) error {
	if err := checkUUID(idField, id); err != nil {
		return err
	}
	if err := from.check("From"); err != nil {
		return err
	}
	return to.check("To")
}

// check validates a package, as built or as parsed.
func (p *Package) check() error {
	if err := checkParties("DocumentId", p.ID, p.From, p.To); err != nil {
		return err
	}
	if p.From.ID == p.To.ID {
		return errs.Invalid("To", "a package is not sent to its own sender")
	}
	ns, err := ParseNumberSymbol(p.Number)
	if err != nil {
		return err
	}
	if ns.Type != p.Type {
		return errs.Invalid("DocumentType", fmt.Sprintf("the type %q does not agree with the number and symbol %s", p.Type, p.Number))
	}
	if err := checkLine("Place", p.Place, maxLine, false); err != nil {
		return err
	}
	if err := checkLine("Subject", p.Subject, maxSubject, true); err != nil {
		return err
	}
	if p.Date.IsZero() {
		return errs.Invalid("PromulgationDate", "is required")
	}
	if p.Urgency > Flash {
		return errs.Invalid("Priority", "unknown urgency")
	}
	if !p.Level.Valid() {
		return errs.Invalid("SecretLevel", "unknown level")
	}
	if len(p.Files) > maxAttachments {
		return errs.Invalid("Attachment", fmt.Sprintf("at most %d files", maxAttachments))
	}
	for _, f := range p.Files {
		c := Content{Filename: f.Name, MediaType: f.MediaType, Data: f.Data}
		if err := c.check(); err != nil {
			return err
		}
		sum := sha256.Sum256(f.Data)
		if !bytes.Equal(sum[:], f.SHA256) {
			return fmt.Errorf("%w: the checksum of file %q does not match its content: the package was altered or damaged on its way", errs.ErrInvalid, f.Name)
		}
	}
	return nil
}

func (m *StatusMessage) check() error {
	if err := checkUUID("StatusId", m.ID); err != nil {
		return err
	}
	if err := checkParties("DocumentId", m.PackageID, m.From, m.To); err != nil {
		return err
	}
	if _, ok := statusCodes[m.Status]; !ok {
		return errs.Invalid("StatusCode", fmt.Sprintf("%q is not a status a message carries", m.Status))
	}
	if m.At.IsZero() {
		return errs.Invalid("Timestamp", "is required")
	}
	return checkText("Description", m.Description, maxNote, false, true)
}

const dateLayout = "2006-01-02"

// BuildPackage encodes p as an edXML package, after checking it as a
// parser would (a package this system cannot read back is not sent).
func BuildPackage(p *Package) ([]byte, error) {
	for i := range p.Files {
		if p.Files[i].SHA256 == nil {
			sum := sha256.Sum256(p.Files[i].Data)
			p.Files[i].SHA256 = sum[:]
		}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	num, notation, _ := strings.Cut(p.Number, "/")
	t, _ := LookupType(p.Type)
	w := newXMLWriter()
	w.open("edXMLEnvelope", true)
	w.open("edXMLHeader", false)
	w.open("MessageHeader", false)
	w.organ("From", p.From)
	w.organ("To", p.To)
	w.leaf("DocumentId", p.ID)
	w.open("Code", false)
	w.leaf("CodeNumber", num)
	w.leaf("CodeNotation", notation)
	w.close("Code")
	w.open("PromulgationInfo", false)
	w.leaf("Place", p.Place)
	w.leaf("PromulgationDate", p.Date.UTC().Format(dateLayout))
	w.close("PromulgationInfo")
	w.open("DocumentType", false)
	w.leaf("Type", p.Type)
	w.leaf("TypeName", t.NameVI)
	w.close("DocumentType")
	w.leaf("Subject", p.Subject)
	w.leaf("SteeringType", map[bool]string{false: "0", true: "1"}[p.Steering])
	w.open("OtherInfo", false)
	w.leaf("Priority", strconv.Itoa(int(p.Urgency)))
	w.leaf("SecretLevel", strconv.Itoa(int(p.Level)))
	w.close("OtherInfo")
	if !p.DueDate.IsZero() {
		w.leaf("DueDate", p.DueDate.UTC().Format(dateLayout))
	}
	w.close("MessageHeader")
	w.close("edXMLHeader")
	w.open("edXMLManifest", false)
	for _, f := range p.Files {
		w.open("Attachment", false)
		w.leaf("AttachmentName", f.Name)
		w.leaf("ContentType", f.MediaType)
		w.leaf("Size", strconv.Itoa(len(f.Data)))
		w.leaf("SHA256", hex.EncodeToString(f.SHA256))
		w.leaf("Content", base64.StdEncoding.EncodeToString(f.Data))
		w.close("Attachment")
	}
	w.close("edXMLManifest")
	w.close("edXMLEnvelope")
	return w.bytes()
}

// BuildStatus encodes a status message.
func BuildStatus(m *StatusMessage) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	w := newXMLWriter()
	w.open("edXMLEnvelope", true)
	w.open("edXMLHeader", false)
	w.open("Status", false)
	w.organ("From", m.From)
	w.organ("To", m.To)
	w.leaf("StatusId", m.ID)
	w.leaf("DocumentId", m.PackageID)
	w.leaf("StatusCode", statusCodes[m.Status])
	w.leaf("Description", m.Description)
	w.leaf("Timestamp", m.At.UTC().Format(time.RFC3339))
	w.close("Status")
	w.close("edXMLHeader")
	w.close("edXMLEnvelope")
	return w.bytes()
}

// xmlWriter writes the packages' simple shape: elements and text, no
// attributes but the namespace on the root.
type xmlWriter struct {
	buf bytes.Buffer
	enc *xml.Encoder
	err error
}

func newXMLWriter() *xmlWriter {
	w := &xmlWriter{}
	w.buf.WriteString(xml.Header)
	w.enc = xml.NewEncoder(&w.buf)
	return w
}

func (w *xmlWriter) open(name string, root bool) {
	se := xml.StartElement{Name: xml.Name{Local: name}}
	if root {
		se.Attr = []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: EdXMLNamespace}}
	}
	if w.err == nil {
		w.err = w.enc.EncodeToken(se)
	}
}

func (w *xmlWriter) close(name string) {
	if w.err == nil {
		w.err = w.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}})
	}
}

func (w *xmlWriter) leaf(name, text string) {
	w.open(name, false)
	if w.err == nil && text != "" {
		w.err = w.enc.EncodeToken(xml.CharData(text))
	}
	w.close(name)
}

func (w *xmlWriter) organ(name string, o Organ) {
	w.open(name, false)
	w.leaf("OrganId", o.ID)
	w.leaf("OrganName", o.Name)
	w.close(name)
}

func (w *xmlWriter) bytes() ([]byte, error) {
	if w.err == nil {
		w.err = w.enc.Flush()
	}
	if w.err != nil {
		return nil, fmt.Errorf("records: encode edXML: %w", w.err)
	}
	return w.buf.Bytes(), nil
}
