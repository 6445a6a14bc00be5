package builder

import (
	"encoding/json"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// The fast path compiles a package with //go:embed the way the go command
// does: the compiler reads the files a pattern names from an embed
// configuration (-embedcfg), a JSON file that maps each pattern to the
// files it matched and each file to its path on disk. The go command
// resolves the patterns in cmd/go/internal/load (resolveEmbed); embedConfig
// follows the same rules on the staged copy of the package, which holds the
// embedded files beside the Go files (staging copies a package's whole
// directory, and the directories below it that hold no Go files). What
// those rules would refuse — no file matched, an invalid name, a nested
// module, an irregular file — goes to the go command, whose error the user
// then sees in its own words.

// embedCfg is the compiler's -embedcfg file, as cmd/go writes it.
type embedCfg struct {
	Patterns map[string][]string
	Files    map[string]string
}

// embedConfig writes the embed configuration of the package in dir, whose
// Go files are names, to out and returns out; "" when the package embeds
// nothing. bctx picks the files the build reads, as the go command does.
func embedConfig(bctx *build.Context, dir string, names []string, out string) (string, error) {
	ctx := *bctx
	// Only the package's own Go files, as staging copied them; never a
	// directory listing that could hold a file written since.
	ctx.ReadDir = func(string) ([]fs.FileInfo, error) {
		var fis []fs.FileInfo
		for _, n := range names {
			fi, err := os.Stat(filepath.Join(dir, n))
			if err != nil {
				return nil, err
			}
			fis = append(fis, fi)
		}
		return fis, nil
	}
	pkg, err := ctx.ImportDir(dir, 0)
	if err != nil {
		return "", fmt.Errorf("%w: read the package in %s: %v", errNotCovered, dir, err)
	}
	if len(pkg.EmbedPatterns) == 0 {
		return "", nil
	}
	cfg, err := resolveEmbed(dir, pkg.EmbedPatterns)
	if err != nil {
		return "", fmt.Errorf("%w: //go:embed in %s: %v", errNotCovered, dir, err)
	}
	b, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return "", fmt.Errorf("builder: embedcfg: %w", err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return "", fmt.Errorf("builder: embedcfg: %w", err)
	}
	return out, nil
}

// resolveEmbed matches the patterns against the files in pkgdir by the
// rules of cmd/go's resolveEmbed. Any case it would refuse is an error here
// too, and so is any case this copy is not sure of (a name the module
// rules may refuse): the go command says which.
func resolveEmbed(pkgdir string, patterns []string) (*embedCfg, error) {
	cfg := &embedCfg{Patterns: map[string][]string{}, Files: map[string]string{}}
	for _, pattern := range patterns {
		glob, all := strings.CutPrefix(pattern, "all:")
		if _, err := path.Match(glob, ""); err != nil || glob == "." || !fs.ValidPath(glob) {
			return nil, fmt.Errorf("pattern %s: invalid pattern syntax", pattern)
		}
		matches, err := filepath.Glob(filepath.Join(globQuote(pkgdir), filepath.FromSlash(glob)))
		if err != nil {
			return nil, fmt.Errorf("pattern %s: %v", pattern, err)
		}
		var list []string
		add := func(file string) {
			rel := filepath.ToSlash(file[len(pkgdir)+1:])
			if !slices.Contains(list, rel) {
				list = append(list, rel)
			}
			cfg.Files[rel] = file
		}
		for _, file := range matches {
			rel := filepath.ToSlash(file[len(pkgdir)+1:])
			info, err := os.Lstat(file)
			if err != nil {
				return nil, err
			}
			// Every element between the package and the match: no
			// module boundary, no name the module rules refuse.
			for d := file; len(d) > len(pkgdir); d = filepath.Dir(d) {
				if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
					return nil, fmt.Errorf("pattern %s: %s is in a different module", pattern, rel)
				}
				if !plainEmbedName(filepath.Base(d)) {
					return nil, fmt.Errorf("pattern %s: %s: a name the go command must judge", pattern, rel)
				}
			}
			switch {
			case info.Mode().IsRegular():
				add(file)
			case info.IsDir():
				count := 0
				err := filepath.WalkDir(file, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					name := d.Name()
					if p != file {
						if name == ".git" || name == ".hg" || name == ".svn" || name == ".bzr" {
							if d.IsDir() {
								return fs.SkipDir
							}
							return nil
						}
						if (name[0] == '.' || name[0] == '_') && !all {
							if d.IsDir() {
								return fs.SkipDir
							}
							return nil
						}
						if !plainEmbedName(name) {
							return fmt.Errorf("%s: a name the go command must judge", p)
						}
					}
					if d.IsDir() {
						if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && p != file {
							return fs.SkipDir
						}
						return nil
					}
					if !d.Type().IsRegular() {
						return nil
					}
					count++
					add(p)
					return nil
				})
				if err != nil {
					return nil, fmt.Errorf("pattern %s: %v", pattern, err)
				}
				if count == 0 {
					return nil, fmt.Errorf("pattern %s: directory %s contains no embeddable files", pattern, rel)
				}
			default:
				return nil, fmt.Errorf("pattern %s: cannot embed irregular file %s", pattern, rel)
			}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("pattern %s: no matching files found", pattern)
		}
		slices.Sort(list)
		cfg.Patterns[pattern] = list
	}
	return cfg, nil
}

// plainEmbedName reports whether name is one the module rules surely
// accept as a file name (cmd/go's isBadEmbedName asks
// golang.org/x/mod/module.CheckFilePath): letters, digits and a few
// punctuation marks, no trailing dot, no Windows device name. Any other
// name is left to the go command, which knows the whole rule.
func plainEmbedName(name string) bool {
	if name == "" || strings.HasSuffix(name, ".") {
		return false
	}
	for _, c := range name {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("-._+~@", c):
		default:
			return false
		}
	}
	short, _, _ := strings.Cut(name, ".")
	switch strings.ToUpper(short) {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return false
	}
	return true
}

// globQuote escapes the characters filepath.Glob reads as a pattern in a
// directory name, so that only the embed pattern is one.
func globQuote(dir string) string {
	var b strings.Builder
	for _, c := range dir {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
