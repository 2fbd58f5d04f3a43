package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"flywheel/internal/store"
)

// runKeys manages the API keys of a data directory: create (printing the
// new key once), list, revoke.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: flywheel keys create|list|revoke [flags]\n\n" +
		"  create --name NAME --scope admin|user   make a key and print it (once: store it)\n" +
		"  list [--json]                           show the keys (never the keys themselves)\n" +
		"  revoke --name NAME                      stop a key from working, for good\n\n" +
		"Once a key exists, `flywheel serve` asks every API request for one (Authorization: Bearer KEY)."
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	fs := newFlags("keys "+args[0], stderr)
	dataDir := dataDirFlag(fs)
	name := fs.String("name", "", "`name` of the key (who uses it: a person, a service)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	switch args[0] {
	case "create":
		scope := fs.String("scope", store.ScopeUser, "`scope`: admin (sees everything) or user (sees what it owns)")
		if err := parseKeysFlags(fs, args[1:], true, name); err != nil {
			return err
		}
		return withStore(ctx, *dataDir, func(st *store.Store) error {
			secret, k, err := st.CreateKey(ctx, *name, *scope)
			if err != nil {
				return fmt.Errorf("keys create: %w", err)
			}
			fmt.Fprintln(stdout, secret)
			fmt.Fprintf(stderr, "flywheel: created %s key %q (%s…) in %s; it is shown only now: store it. Send it as \"Authorization: Bearer KEY\".\n", k.Scope, k.Name, k.Prefix, st.Dir())
			return nil
		})
	case "list":
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parseKeysFlags(fs, args[1:], false, name); err != nil {
			return err
		}
		return withStore(ctx, *dataDir, func(st *store.Store) error {
			keys, err := st.Keys(ctx)
			if err != nil {
				return err
			}
			if *asJSON {
				return printKeysJSON(stdout, keys)
			}
			printKeys(stdout, keys)
			return nil
		})
	case "revoke":
		if err := parseKeysFlags(fs, args[1:], true, name); err != nil {
			return err
		}
		return withStore(ctx, *dataDir, func(st *store.Store) error {
			k, err := st.RevokeKey(ctx, *name)
			if err != nil {
				return fmt.Errorf("keys revoke: %w", err)
			}
			fmt.Fprintf(stdout, "revoked %s key %q (%s…) on %s\n", k.Scope, k.Name, k.Prefix, k.Revoked.Format(time.RFC3339))
			return nil
		})
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("keys: unknown action %q: want create, list or revoke", args[0])
}

// parseKeysFlags parses args, requiring --name when needName.
func parseKeysFlags(fs *flag.FlagSet, args []string, needName bool, name *string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("keys: unexpected argument %q", fs.Arg(0))
	}
	if needName && *name == "" {
		fs.Usage()
		return fmt.Errorf("keys: --name is required")
	}
	return nil
}

func withStore(ctx context.Context, dir string, fn func(*store.Store) error) error {
	st, err := store.Open(ctx, dir)
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

func printKeys(w io.Writer, keys []store.APIKey) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCOPE\tKEY\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if !k.Revoked.IsZero() {
			revoked = k.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\n", k.Name, k.Scope, k.Prefix, k.Created.Format(time.RFC3339), revoked)
	}
	tw.Flush()
}

func printKeysJSON(w io.Writer, keys []store.APIKey) error {
	type jsonKey struct {
		Name    string     `json:"name"`
		Scope   string     `json:"scope"`
		Prefix  string     `json:"prefix"`
		Created time.Time  `json:"created"`
		Revoked *time.Time `json:"revoked,omitempty"`
	}
	out := make([]jsonKey, len(keys))
	for i, k := range keys {
		out[i] = jsonKey{Name: k.Name, Scope: k.Scope, Prefix: k.Prefix, Created: k.Created}
		if !k.Revoked.IsZero() {
			out[i].Revoked = &k.Revoked
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
