package procedures

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"chancery/internal/errs"
)

// commandUsage is the help of `chancery procedures`.
const commandUsage = `usage:
  chancery procedures export DIR   write the built-in catalogue to DIR, one CODE.json per procedure, to edit
  chancery procedures check DIR    check an edited catalogue in DIR, naming each bad file and field
  chancery procedures list [DIR]   list the procedures (of DIR, else the built-in catalogue)

A node serves an edited catalogue with chancery serve --catalogue DIR.`

// CommandEnv is what Command needs from the program that runs it.
type CommandEnv struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Command runs `chancery procedures`: the catalogue's administration from
// the command line. Administrators edit the catalogue as files (export,
// edit, check) and serve it with --catalogue; the procedures are data,
// not code.
func Command(_ context.Context, env CommandEnv, args []string) error {
	stdout := env.Stdout
	return errs.Subcommand(commandUsage, stdout, args, map[string]func([]string) error{
		"export": func(args []string) error {
			if len(args) != 1 {
				return errs.Usage(commandUsage, "export takes 1 argument (DIR), not %d", len(args))
			}
			return exportCatalogue(stdout, args[0])
		},
		"check": func(args []string) error {
			if len(args) != 1 {
				return errs.Usage(commandUsage, "check takes 1 argument (DIR), not %d", len(args))
			}
			c, err := LoadCatalogueDir(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "catalogue %s: %d procedures, all valid\n", args[0], len(c.list))
			return nil
		},
		"list": func(args []string) error {
			if len(args) > 1 {
				return errs.Usage(commandUsage, "list takes at most 1 argument (DIR), not %d", len(args))
			}
			var c *Catalogue
			var err error
			if len(args) == 1 {
				c, err = LoadCatalogueDir(args[0])
			} else {
				c, err = BuiltinCatalogue()
			}
			if err != nil {
				return err
			}
			for _, p := range c.list {
				fmt.Fprintf(stdout, "%s\t%d working days\t%s\n", p.Code, p.TimeLimit.WorkingDays, p.NameVI)
			}
			return nil
		},
	})
}

// LoadCatalogueDir loads an edited catalogue from a directory, as
// LoadCatalogue does.
func LoadCatalogueDir(dir string) (*Catalogue, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: catalogue %s is not a directory; write one with chancery procedures export %s", errs.ErrInvalid, dir, dir)
	}
	return LoadCatalogue(os.DirFS(dir))
}

// exportCatalogue writes the built-in catalogue's files to dir, which must
// not hold any of them yet: an export never overwrites edits.
func exportCatalogue(stdout io.Writer, dir string) error {
	sub, err := fs.Sub(builtin, "catalogue")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s already exists; export into an empty directory so no edit is overwritten", errs.ErrConflict, filepath.Join(dir, e.Name()))
		}
		if err != nil {
			return err
		}
		_, werr := f.Write(data)
		if err := errors.Join(werr, f.Close()); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d procedures to %s; edit them, check with chancery procedures check %s, and serve with --catalogue %s\n", len(entries), dir, dir, dir)
	return nil
}
