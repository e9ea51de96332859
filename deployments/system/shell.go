package system

import (
	"errors"
	"path/filepath"
	"regexp"
	"strings"
)

// Command is a build command as a shell would run it: environment
// assignments, then the program and its arguments.
type Command struct {
	Env  []string // NAME=value
	Args []string // program first
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// Eval splits a simple shell command line (no pipes, no substitutions)
// into words as sh does: single quotes keep everything literal, double
// quotes and bare words expand $NAME and ${NAME} from vars (unknown names
// expand to ""), and backslash-newline joins lines.
func Eval(line string, vars map[string]string) (Command, error) {
	line = strings.ReplaceAll(line, "\\\n", " ")
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '\'' && c != '\'':
			cur.WriteByte(c)
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote, inWord = c, true
		case c == '$':
			name, n := varName(line[i+1:])
			if n == 0 {
				cur.WriteByte(c)
			} else {
				cur.WriteString(vars[name])
				i += n
			}
			inWord = true
		case quote == 0 && (c == ' ' || c == '\t' || c == '\n'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return Command{}, errors.New("unterminated quote in " + line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	var cmd Command
	for len(words) > 0 && assignment.MatchString(words[0]) {
		cmd.Env = append(cmd.Env, words[0])
		words = words[1:]
	}
	if len(words) == 0 {
		return Command{}, errors.New("no command in " + line)
	}
	cmd.Args = words
	return cmd, nil
}

// varName reads the variable name after a '$': NAME or {NAME}. It returns
// the name and how many bytes it took, 0 if none.
func varName(s string) (string, int) {
	if strings.HasPrefix(s, "{") {
		if end := strings.IndexByte(s, '}'); end > 1 {
			return s[1:end], end + 1
		}
		return "", 0
	}
	n := 0
	for n < len(s) && (s[n] == '_' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z' || n > 0 && s[n] >= '0' && s[n] <= '9') {
		n++
	}
	return s[:n], n
}

// Output returns the command's -o argument, "" if it has none.
func (c Command) Output() string {
	for i, a := range c.Args {
		if a == "-o" && i+1 < len(c.Args) {
			return c.Args[i+1]
		}
	}
	return ""
}

// WithOutputDir returns the command with the directory of its -o argument
// replaced by dir.
func (c Command) WithOutputDir(dir string) Command {
	args := append([]string(nil), c.Args...)
	for i := range args {
		if i > 0 && args[i-1] == "-o" {
			args[i] = filepath.Join(dir, filepath.Base(args[i]))
		}
	}
	return Command{Env: c.Env, Args: args}
}
