package server

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"flywheel/internal/collection"
	"flywheel/internal/document"
	"flywheel/internal/index"
	"flywheel/internal/store"
)

// collectionJSON is a collection as the API shows it.
type collectionJSON struct {
	Name       string    `json:"name"`
	Owner      string    `json:"owner"`
	Created    time.Time `json:"created"`
	Generation uint64    `json:"generation"`
	Embedding  string    `json:"embedding,omitempty"`
	Documents  *int      `json:"documents,omitempty"`
}

func newCollectionJSON(c store.Collection) collectionJSON {
	out := collectionJSON{Name: c.Name, Owner: c.Owner, Created: c.Created, Generation: c.Generation}
	if !c.Embed.IsZero() {
		out.Embedding = c.Embed.String()
	}
	return out
}

// newCollection is the default collection the API creates: BM25 with the
// command line's defaults.
func newCollection(name, owner string) store.Collection {
	return store.Collection{Name: name, Analyzer: index.DefaultAnalyzer.Name, K1: 0.9, B: 0.4,
		ChunkSize: 1000, ChunkOverlap: 100, Owner: owner}
}

// createCollection is POST /api/collections {"name"}.
func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Name == "" {
		writeErrorParam(w, http.StatusBadRequest, `field "name" is missing: give the new collection's name`, "name", "")
		return
	}
	owner, _ := Identity(r.Context())
	c, err := s.cfg.Store.CreateCollection(r.Context(), newCollection(req.Name, owner))
	switch {
	case err != nil && strings.Contains(err.Error(), "already exists"):
		writeErrorParam(w, http.StatusConflict, fmt.Sprintf("a collection named %q already exists: choose another name", req.Name), "name", "")
		return
	case err != nil && strings.Contains(err.Error(), "use letters"):
		writeErrorParam(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "store: "), "name", "")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, newCollectionJSON(c))
}

// listCollections is GET /api/collections: the caller's collections
// (an admin's: all).
func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	all, err := s.cfg.Store.Collections(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []collectionJSON{}
	for _, c := range all {
		if visible(r.Context(), c.Owner) {
			out = append(out, newCollectionJSON(c))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"collections": out})
}

// getCollection is GET /api/collections/{name}.
func (s *Server) getCollection(w http.ResponseWriter, r *http.Request) {
	info, ok := s.visibleCollection(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	docs, err := s.cfg.Store.Documents(r.Context(), info.Name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := newCollectionJSON(info)
	n := len(docs)
	out.Documents = &n
	writeJSON(w, http.StatusOK, out)
}

// deleteCollection is DELETE /api/collections/{name}: its documents,
// index and uploaded files go; the answers and feedback given on it stay
// (they are training data).
func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) {
	info, ok := s.visibleCollection(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	oc, release, err := s.app.write(r.Context(), info.Name)
	if err == nil {
		defer release()
		defer s.app.forget(info.Name, oc)
	}
	if err := s.cfg.Store.DeleteCollection(r.Context(), info.Name); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if err := os.RemoveAll(s.uploadDir(info.Name)); err != nil {
		s.cfg.Logger.Warn("removing uploaded files", "collection", info.Name, "error", err.Error())
	}
	w.WriteHeader(http.StatusNoContent)
}

// documentJSON is a document as the API lists it.
type documentJSON struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	File  string `json:"file"`
}

// listDocuments is GET /api/collections/{name}/documents.
func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) {
	info, ok := s.visibleCollection(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	docs, err := s.cfg.Store.Documents(r.Context(), info.Name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := make([]documentJSON, len(docs))
	for i, d := range docs {
		out[i] = documentJSON{ID: d.ID, Title: d.Title, File: filepath.Base(d.Path)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": out})
}

// getDocument is GET /api/collections/{name}/documents/{doc_id}: the
// document's text, which citations' byte offsets [start, end) index.
func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) {
	info, ok := s.visibleCollection(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	id := r.PathValue("doc_id")
	docs, err := s.cfg.Store.Documents(r.Context(), info.Name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	for _, d := range docs {
		if d.ID != id {
			continue
		}
		text, err := s.documentText(r, info.Name, d)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": d.ID, "title": d.Title, "file": filepath.Base(d.Path), "text": text})
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("collection %q has no document %q: GET /api/collections/%s/documents lists them", info.Name, id, info.Name))
}

// documentText is the text of a stored document: read again from its
// file while the file holds it unchanged, else pieced together from its
// chunks (each at its own offsets; gaps between chunks are spaces).
func (s *Server) documentText(r *http.Request, coll string, d store.Document) (string, error) {
	if loaded, err := document.LoadFile(d.Path, document.Options{}); err == nil {
		for _, ld := range loaded {
			if ld.ID == d.ID && ld.Hash() == d.Hash {
				return ld.Text, nil
			}
		}
	}
	chunkDocs, err := s.cfg.Store.ChunkDocIDs(r.Context(), coll)
	if err != nil {
		return "", err
	}
	var ids []string
	for c, doc := range chunkDocs {
		if doc == d.ID {
			ids = append(ids, c)
		}
	}
	recs, err := s.cfg.Store.ChunkRecords(r.Context(), coll, ids)
	if err != nil {
		return "", err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Start < recs[j].Start })
	var b []byte
	for _, c := range recs {
		if c.Start < 0 || c.End < c.Start {
			continue
		}
		for len(b) < c.Start {
			b = append(b, ' ')
		}
		if c.End > len(b) {
			// the chunk overlaps what is there by len(b)-c.Start bytes
			b = append(b, c.Text[min(len(c.Text), len(b)-c.Start):]...)
		}
	}
	return string(b), nil
}

// uploadDir is where a collection's uploaded files are kept.
func (s *Server) uploadDir(coll string) string {
	return filepath.Join(s.cfg.Store.Dir(), "uploads", coll)
}

// uploadDocument is POST /api/collections/{name}/documents: a multipart
// form whose field "file" holds a .txt, .md, .html, .jsonl or .pdf file
// (up to Limits.MaxUpload). The file is kept under
// DATA/uploads/COLLECTION/ and ingested; uploading a file of the same
// name again replaces its documents.
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request) {
	info, ok := s.visibleCollection(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	up, status, msg := s.receiveUpload(r, info.Name)
	if status != 0 {
		writeErrorParam(w, status, msg, "file", "")
		return
	}
	defer up.discard()
	oc, release, err := s.app.write(r.Context(), info.Name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer release()
	path, err := up.keep()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "storing the upload: "+err.Error())
		return
	}
	sum, err := oc.c.Ingest(r.Context(), []string{path}, collection.IngestOptions{})
	if err != nil {
		if errors.Is(err, r.Context().Err()) {
			w.WriteHeader(statusClientClosed)
			return
		}
		writeError(w, http.StatusInternalServerError, "ingesting "+up.name+": "+err.Error())
		return
	}
	docs, err := s.documentsOf(r, info.Name, path)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"collection": info.Name, "file": up.name, "bytes": up.size, "documents": docs,
		"added": sum.Added, "updated": sum.Updated, "unchanged": sum.Unchanged, "chunks": sum.Chunks,
	})
}

// documentsOf lists the stored documents of one file.
func (s *Server) documentsOf(r *http.Request, coll, path string) ([]documentJSON, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	all, err := s.cfg.Store.Documents(r.Context(), coll)
	if err != nil {
		return nil, err
	}
	out := []documentJSON{}
	for _, d := range all {
		if d.Path == abs {
			out = append(out, documentJSON{ID: d.ID, Title: d.Title, File: filepath.Base(d.Path)})
		}
	}
	return out, nil
}
