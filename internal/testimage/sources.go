package testimage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// AptSource is one entry of apt's sources (a line of sources.list or a
// paragraph of a .sources file).
type AptSource struct {
	Types      []string
	URIs       []string
	Suites     []string
	Components []string
	SignedBy   string
}

// ReadAptSources reads the enabled entries of sources.list and
// sources.list.d/*.list and *.sources under etcApt.
func ReadAptSources(etcApt string) ([]AptSource, error) {
	var out []AptSource
	lists := []string{filepath.Join(etcApt, "sources.list")}
	more, _ := filepath.Glob(filepath.Join(etcApt, "sources.list.d", "*.list"))
	lists = append(lists, more...)
	for _, f := range lists {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, parseOneLineSources(string(b))...)
	}
	deb822, _ := filepath.Glob(filepath.Join(etcApt, "sources.list.d", "*.sources"))
	for _, f := range deb822 {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, parseDeb822Sources(string(b))...)
	}
	return out, nil
}

// parseOneLineSources reads "deb [signed-by=K arch=A] URI SUITE COMPONENT...".
func parseOneLineSources(s string) []AptSource {
	var out []AptSource
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		src := AptSource{Types: []string{f[0]}}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") {
			var opts []string
			for len(f) > 0 {
				w := f[0]
				f = f[1:]
				opts = append(opts, strings.Trim(w, "[]"))
				if strings.HasSuffix(w, "]") {
					break
				}
			}
			for _, o := range opts {
				if v, ok := strings.CutPrefix(o, "signed-by="); ok {
					src.SignedBy = v
				}
			}
		}
		if len(f) < 2 {
			continue
		}
		src.URIs, src.Suites, src.Components = []string{f[0]}, []string{f[1]}, f[2:]
		out = append(out, src)
	}
	return out
}

// parseDeb822Sources reads the paragraphs of a .sources file; paragraphs
// with "Enabled: no" are left out.
func parseDeb822Sources(s string) []AptSource {
	var out []AptSource
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		fields := map[string]string{}
		var last string
		sc := bufio.NewScanner(strings.NewReader(para))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
				if last != "" {
					fields[last] += "\n" + strings.TrimSpace(line)
				}
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
		if len(fields) == 0 || strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		src := AptSource{
			Types:      strings.Fields(fields["types"]),
			URIs:       strings.Fields(fields["uris"]),
			Suites:     strings.Fields(fields["suites"]),
			Components: strings.Fields(fields["components"]),
		}
		// Signed-By is a keyring path, or a key written out in the field.
		if sb := fields["signed-by"]; sb != "" && !strings.Contains(sb, "\n") {
			src.SignedBy = sb
		}
		out = append(out, src)
	}
	return out
}

// SourcesFor derives the sources of suite from this machine's sources of
// hostSuite: every "deb" entry of a Debian archive (signed by the Debian
// archive keyring, or with no key named) whose suite is hostSuite or
// hostSuite-X gets suite or suite-X instead, with component main only.
func SourcesFor(host []AptSource, hostSuite, suite string) ([]AptSource, error) {
	var out []AptSource
	seen := map[string]bool{}
	for _, s := range host {
		if !slices.Contains(s.Types, "deb") || !slices.Contains(s.Components, "main") {
			continue
		}
		if s.SignedBy != "" && !strings.Contains(s.SignedBy, "debian-archive-keyring") {
			continue
		}
		var suites []string
		for _, su := range s.Suites {
			switch {
			case su == hostSuite:
				suites = append(suites, suite)
			case strings.HasPrefix(su, hostSuite+"-"):
				suites = append(suites, suite+strings.TrimPrefix(su, hostSuite))
			}
		}
		if len(suites) == 0 {
			continue
		}
		d := AptSource{Types: []string{"deb"}, URIs: s.URIs, Suites: suites, Components: []string{"main"}, SignedBy: s.SignedBy}
		key := fmt.Sprint(d)
		if !seen[key] {
			seen[key] = true
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Debian %s sources with component main in this machine's apt sources", hostSuite)
	}
	return out, nil
}

// FormatSources writes sources in the deb822 format.
func FormatSources(srcs []AptSource) []byte {
	var b strings.Builder
	for i, s := range srcs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Types: %s\nURIs: %s\nSuites: %s\nComponents: %s\n",
			strings.Join(s.Types, " "), strings.Join(s.URIs, " "), strings.Join(s.Suites, " "), strings.Join(s.Components, " "))
		if s.SignedBy != "" {
			fmt.Fprintf(&b, "Signed-By: %s\n", s.SignedBy)
		}
	}
	return []byte(b.String())
}
