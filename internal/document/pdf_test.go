package document

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// makePDF writes a PDF with one page per string, in Helvetica.
func makePDF(pages ...string) []byte {
	var objs []string
	kids := ""
	for i := range pages {
		kids += fmt.Sprintf("%d 0 R ", 4+2*i)
	}
	objs = append(objs, "<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, len(pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	for i, text := range pages {
		stream := fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s) Tj ET", text)
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func TestPDF(t *testing.T) {
	docs, err := parsePDF("dir/report.pdf", makePDF("Hello PDF world", "Second page here"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	if d.Title != "report" || d.Meta["pages"] != "2" || !strings.Contains(d.Text, "Hello PDF world") || !strings.Contains(d.Text, "Second page here") {
		t.Fatalf("got %+v", d)
	}
	for _, bad := range [][]byte{nil, []byte("%PDF-1.4\ngarbage"), makePDF("")} {
		if _, err := parsePDF("bad.pdf", bad, Options{}); err == nil || !strings.Contains(err.Error(), "bad.pdf") {
			t.Errorf("%q: want an error naming the file, got %v", bad, err)
		}
	}
}

func FuzzPDF(f *testing.F) {
	f.Add(makePDF("Hello PDF world"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parsePDF("f.pdf", data, Options{}) // must not panic or hang
	})
}
