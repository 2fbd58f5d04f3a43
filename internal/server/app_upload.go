package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"flywheel/internal/document"
)

// upload is a file received into a temporary file beside its final
// place, checked to load as documents.
type upload struct {
	name       string // the sanitized file name
	tmp, final string
	size       int64
}

// keep moves the upload to its final path.
func (u *upload) keep() (string, error) {
	if err := os.Rename(u.tmp, u.final); err != nil {
		return "", err
	}
	u.tmp = ""
	return u.final, nil
}

// discard removes the temporary file if it was not kept.
func (u *upload) discard() {
	if u.tmp != "" {
		os.Remove(u.tmp)
	}
}

// receiveUpload reads the multipart field "file" of r into a temporary
// file of the collection's upload directory and checks it. On failure it
// returns the status and message to answer.
func (s *Server) receiveUpload(r *http.Request, coll string) (u *upload, status int, msg string) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return nil, http.StatusUnsupportedMediaType, `send the document as multipart/form-data, the file in field "file" (curl -F file=@doc.md)`
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, "reading the multipart form: " + err.Error()
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, http.StatusBadRequest, `the form has no field "file": send the document in a field named "file"`
		}
		if err != nil {
			return nil, bodyStatus(err), "reading the multipart form: " + bodyMessage(err)
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name, err := safeFileName(params["filename"])
		if err != nil {
			return nil, http.StatusBadRequest, err.Error()
		}
		if !document.Supported(name) {
			return nil, http.StatusUnsupportedMediaType, fmt.Sprintf("%s: unsupported file type %q: upload .txt, .md, .html, .jsonl or .pdf", name, filepath.Ext(name))
		}
		return s.saveUpload(part, coll, name)
	}
}

// saveUpload copies a file part into a temporary file and checks that it
// is a document of its type.
func (s *Server) saveUpload(part io.Reader, coll, name string) (*upload, int, string) {
	dir := s.uploadDir(coll)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, http.StatusInternalServerError, err.Error()
	}
	ext := filepath.Ext(name)
	f, err := os.CreateTemp(dir, ".upload-*"+ext)
	if err != nil {
		return nil, http.StatusInternalServerError, err.Error()
	}
	u := &upload{name: name, tmp: f.Name(), final: filepath.Join(dir, name)}
	fail := func(status int, msg string) (*upload, int, string) {
		f.Close()
		u.discard()
		return nil, status, msg
	}
	var head bytes.Buffer
	u.size, err = io.Copy(f, io.TeeReader(part, &limitedBuffer{&head, 8 << 10}))
	if err != nil {
		return fail(bodyStatus(err), fmt.Sprintf("receiving %s: %s", name, bodyMessage(err)))
	}
	if err := f.Close(); err != nil {
		return fail(http.StatusInternalServerError, err.Error())
	}
	switch {
	case u.size == 0:
		return fail(http.StatusBadRequest, name+" is empty: upload a file with text in it")
	case strings.EqualFold(ext, ".pdf") && !bytes.HasPrefix(head.Bytes(), []byte("%PDF-")):
		return fail(http.StatusUnsupportedMediaType, name+" is not a PDF file (it does not start with %PDF-)")
	case !strings.EqualFold(ext, ".pdf") && bytes.IndexByte(head.Bytes(), 0) >= 0:
		return fail(http.StatusUnsupportedMediaType, fmt.Sprintf("%s is a binary file, not %s text: upload a text file", name, ext))
	}
	if _, err := document.LoadFile(u.tmp, document.Options{}); err != nil {
		return fail(http.StatusUnprocessableEntity, strings.ReplaceAll(err.Error(), u.tmp, name))
	}
	return u, 0, ""
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// safeFileName reduces an uploaded file's name to a base name safe to
// create in the upload directory: directories (../../x, /etc/x,
// C:\x) are dropped; a name that is empty, hidden, too long or holds
// control characters is refused.
func safeFileName(raw string) (string, error) {
	name := raw
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	switch {
	case raw == "":
		return "", errors.New(`the "file" field has no file name: send it as a file (curl -F file=@doc.md)`)
	case !utf8.ValidString(name):
		return "", fmt.Errorf("file name %q is not valid UTF-8", raw)
	case name == "" || name == "." || name == "..":
		return "", fmt.Errorf("file name %q names no file: send a file name such as notes.md", raw)
	case strings.HasPrefix(name, "."):
		return "", fmt.Errorf("file name %q starts with a dot: rename the file", name)
	case len(name) > 200:
		return "", fmt.Errorf("file name %.40q… is longer than 200 bytes: rename the file", name)
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return "", fmt.Errorf("file name %q holds a control character: rename the file", raw)
		case strings.ContainsRune(`:*?"<>|`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// bodyStatus is the status for an error reading a request body: 413 over
// the limit, 400 otherwise.
func bodyStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func bodyMessage(err error) string {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Sprintf("the upload is larger than the limit of %d bytes (the server's --max-upload)", tooBig.Limit)
	}
	return err.Error()
}
