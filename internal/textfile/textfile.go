// Package textfile reads the text files flowd's tools are given (.flow and
// .flowtest files, REPL input) with bounds: only regular files, each under a
// size cap, and lines under a length cap, so that a path to /dev/zero or a
// line without an end cannot exhaust memory.
package textfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrTooLarge is wrapped by Read's error for a file over its cap.
var ErrTooLarge = errors.New("file is too large")

// Read returns the contents of the regular file at path, which must hold at
// most max bytes. A symbolic link is followed; a device, pipe or directory is
// refused before anything is read. Errors are *fs.PathError, as os.ReadFile's.
func Read(path string, max int64) ([]byte, error) {
	f, info, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes; the limit is %d (%s)", ErrTooLarge, info.Size(), max, Size(max))}
	}
	// the file may grow while it is read: read one byte past the cap to know
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: over %d bytes (%s)", ErrTooLarge, max, Size(max))}
	}
	return data, nil
}

// Head returns at most the first n bytes of the regular file at path, as
// Read would open it.
func Head(path string, n int64) ([]byte, error) {
	f, _, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// open opens the regular file at path, refusing anything else before it
// reads.
func open(path string) (*os.File, fs.FileInfo, error) {
	// O_NONBLOCK: opening a named pipe would otherwise wait for a writer,
	// before Stat could tell it is no regular file
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("not a regular file but %s", kind(info.Mode()))}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// ReadAll reads r, which must hold at most max bytes (standard input, say);
// name is what the error calls it.
func ReadAll(name string, r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: over %d bytes (%s)", name, ErrTooLarge, max, Size(max))
	}
	return data, nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// Size renders a byte count the way the limits are documented: 256 KiB, 1 MiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// A Lines reader returns the lines of its input one at a time, without
// their line ending. A line longer than the cap is not kept: Next reports it
// as too long, with its number, and reading goes on with the line after it.
type Lines struct {
	r   *bufio.Reader
	max int
	n   int // lines read
}

// NewLines reads lines of at most max bytes from r.
func NewLines(r io.Reader, max int) *Lines {
	return &Lines{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// A LineTooLongError reports a line over the cap; it was skipped.
type LineTooLongError struct {
	Line int // its number, from 1
	Max  int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line is longer than %s", Size(int64(e.Max)))
}

// Next returns the next line and its number. At the end of the input it
// returns io.EOF; for a line over the cap, a *LineTooLongError, after which
// Next may be called again.
func (l *Lines) Next() (string, int, error) {
	var buf []byte
	over := false
	for {
		part, isPrefix, err := l.r.ReadLine()
		if err != nil {
			if err == io.EOF && (len(buf) > 0 || over) {
				break // a last line without a newline
			}
			return "", l.n, err
		}
		if !over {
			if len(buf)+len(part) > l.max {
				over, buf = true, nil
			} else {
				buf = append(buf, part...)
			}
		}
		if !isPrefix {
			break
		}
	}
	l.n++
	if over {
		return "", l.n, &LineTooLongError{Line: l.n, Max: l.max}
	}
	return string(buf), l.n, nil
}
