package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"flywheel/internal/llm"
	"flywheel/internal/openai"
)

// gatewayRoutes registers the OpenAI-compatible API under /v1. Every
// error is in OpenAI's shape, unknown paths and methods included.
func (s *Server) gatewayRoutes() {
	s.mux.HandleFunc("GET /v1/models", s.listModels)
	s.mux.HandleFunc("GET /v1/models/{model...}", s.getModel)
	s.mux.HandleFunc("POST /v1/chat/completions", s.chatCompletions)
	s.mux.HandleFunc("POST /v1/completions", s.completions)
	s.mux.HandleFunc("POST /v1/embeddings", s.embeddings)
	for _, p := range []string{"/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings"} {
		s.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s does not take %s", r.URL.Path, r.Method))
		})
	}
	s.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s %s: this server serves /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/models", r.Method, r.URL.Path))
	})
}

// modelsCreated is when the process started: the "created" of served models.
var modelsCreated = time.Now().Unix()

func (s *Server) chatModels() []string {
	if s.cfg.ModelNames == nil {
		return nil
	}
	return s.cfg.ModelNames()
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	names := s.chatModels()
	if s.cfg.Embedder != nil {
		names = append(names, s.cfg.EmbedModel)
	}
	writeJSON(w, http.StatusOK, openai.NewModelList(names, modelsCreated))
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	if !slices.Contains(s.chatModels(), name) && (s.cfg.Embedder == nil || name != s.cfg.EmbedModel) {
		writeErrorParam(w, http.StatusNotFound, fmt.Sprintf("model %q is not served here; GET /v1/models lists the models", name), "model", "model_not_found")
		return
	}
	writeJSON(w, http.StatusOK, openai.NewModel(name, modelsCreated))
}

// checkChatModel answers 503 when no chat model is configured and 404
// for a model name that is not served; it reports whether to go on.
func (s *Server) checkChatModel(w http.ResponseWriter, name string) bool {
	if s.cfg.Model == nil {
		writeError(w, http.StatusServiceUnavailable, "no chat model is configured: start flywheel serve with --model PATH (a local model) or --llm-url URL --llm-model NAME (an OpenAI-compatible endpoint)")
		return false
	}
	if name == "" || s.cfg.ModelNames == nil {
		return true
	}
	names := s.chatModels()
	if !slices.Contains(names, name) {
		writeErrorParam(w, http.StatusNotFound, fmt.Sprintf("model %q is not served here: use one of %s (GET /v1/models lists them)", name, strings.Join(names, ", ")), "model", "model_not_found")
		return false
	}
	return true
}

// displayModel is the model name of stream chunks sent before the
// response says which model answered.
func (s *Server) displayModel(requested string) string {
	if requested != "" {
		return requested
	}
	if names := s.chatModels(); len(names) > 0 {
		return names[0]
	}
	return "flywheel"
}

// writeRequestError answers a body that failed to decode: 400 naming the
// field.
func writeRequestError(w http.ResponseWriter, err error) {
	var re *openai.RequestError
	if errors.As(err, &re) {
		writeErrorParam(w, http.StatusBadRequest, err.Error(), re.Param, "")
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// newID returns a response id: prefix and 24 random hex digits.
func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	req, err := openai.DecodeChatRequest(body)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	if !s.checkChatModel(w, req.Model) {
		return
	}
	key, _ := Identity(r.Context())
	id, created := newID("chatcmpl-"), time.Now().Unix()
	logprobs := req.Params.Logprobs || req.Params.TopLogprobs > 0
	if req.Stream {
		s.streamChat(w, r, req, openai.ChatStream{ID: id, Created: created, Model: s.displayModel(req.Model)}, key, logprobs)
		return
	}
	resps := make([]*llm.Response, 0, req.N)
	err = s.queue.do(r.Context(), func(ctx context.Context) error {
		for i := range req.N {
			lr := req.Request(i)
			lr.Key = key
			resp, err := s.cfg.Model.Chat(ctx, lr, nil)
			if err != nil {
				return err
			}
			resps = append(resps, resp)
		}
		return nil
	})
	if err != nil {
		s.writeGenerationError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, openai.NewChatCompletion(id, created, s.displayModel(req.Model), resps, logprobs))
}

// streamChat sends the choices one after the other as server-sent
// events, each opened by a role chunk and closed by a finish chunk, then
// the usage if asked for, then [DONE]. Until the first event an error is
// an ordinary error response; after it, an error event ends the stream.
func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, req openai.ChatRequest, st openai.ChatStream, key string, logprobs bool) {
	es := newEventStream(w)
	err := s.queue.do(r.Context(), func(ctx context.Context) error {
		resps := make([]*llm.Response, 0, req.N)
		for i := range req.N {
			lr := req.Request(i)
			lr.Key = key
			opened := false
			open := func() error {
				if opened {
					return nil
				}
				opened = true
				return es.send(st.Start(i))
			}
			resp, err := s.cfg.Model.Chat(ctx, lr, func(delta string) error {
				if err := open(); err != nil {
					return err
				}
				return es.send(st.Text(i, delta))
			})
			if err != nil {
				return err
			}
			if err := open(); err != nil {
				return err
			}
			if err := es.send(st.Finish(i, resp, logprobs)); err != nil {
				return err
			}
			resps = append(resps, resp)
		}
		if req.IncludeUsage {
			if err := es.send(st.Usage(openai.TotalUsage(resps))); err != nil {
				return err
			}
		}
		return es.done()
	})
	s.finishStream(w, es, err)
}

// finishStream reports err: as an error response if nothing was sent yet,
// else as an error event.
func (s *Server) finishStream(w http.ResponseWriter, es *eventStream, err error) {
	switch {
	case err == nil:
	case !es.started:
		s.writeGenerationError(w, err)
	case errors.Is(err, context.Canceled):
		// the client went away: nothing to tell it
	default:
		es.fail(err)
	}
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	req, err := openai.DecodeCompletionRequest(body)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	if !s.checkChatModel(w, req.Model) {
		return
	}
	key, _ := Identity(r.Context())
	id, created := newID("cmpl-"), time.Now().Unix()
	if req.Stream {
		s.streamCompletions(w, r, req, openai.CompletionStream{Req: req, ID: id, Created: created, Model: s.displayModel(req.Model)}, key)
		return
	}
	var resps []*llm.Response
	err = s.queue.do(r.Context(), func(ctx context.Context) error {
		for i := range req.Prompts {
			for j := range req.N {
				lr := req.Request(i, j)
				lr.Key = key
				resp, err := s.cfg.Model.Chat(ctx, lr, nil)
				if err != nil {
					return err
				}
				resps = append(resps, resp)
			}
		}
		return nil
	})
	if err != nil {
		s.writeGenerationError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, req.NewCompletion(id, created, resps))
}

// streamCompletions sends each choice's text as it comes, then its finish
// chunk; choice k is choice k%n of prompt k/n.
func (s *Server) streamCompletions(w http.ResponseWriter, r *http.Request, req openai.CompletionRequest, st openai.CompletionStream, key string) {
	es := newEventStream(w)
	err := s.queue.do(r.Context(), func(ctx context.Context) error {
		var usage []*llm.Response
		for k := range len(req.Prompts) * req.N {
			lr := req.Request(k/req.N, k%req.N)
			lr.Key = key
			if c, ok := st.Start(k); ok {
				if err := es.send(c); err != nil {
					return err
				}
			}
			resp, err := s.cfg.Model.Chat(ctx, lr, func(delta string) error { return es.send(st.Text(k, delta)) })
			if err != nil {
				return err
			}
			if err := es.send(st.Finish(k, resp)); err != nil {
				return err
			}
			usage = append(usage, resp)
		}
		if req.IncludeUsage {
			u := req.NewCompletion("", 0, usage).Usage
			if err := es.send(st.Usage(*u)); err != nil {
				return err
			}
		}
		return es.done()
	})
	s.finishStream(w, es, err)
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	req, err := openai.DecodeEmbeddingRequest(body)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	e := s.cfg.Embedder
	if e == nil {
		writeError(w, http.StatusServiceUnavailable, "no embedding model is configured: start flywheel serve with --embed-model PATH (a local BERT-family model) or --embed-url URL --embed-url-model NAME")
		return
	}
	if req.Model != "" && req.Model != s.cfg.EmbedModel {
		writeErrorParam(w, http.StatusNotFound, fmt.Sprintf("embedding model %q is not served here: use %q", req.Model, s.cfg.EmbedModel), "model", "model_not_found")
		return
	}
	if dim := e.Dim(); req.Dimensions != 0 && dim != 0 && req.Dimensions != dim {
		writeErrorParam(w, http.StatusBadRequest, fmt.Sprintf("%s makes vectors of %d dimensions, not %d: leave dimensions out", s.cfg.EmbedModel, dim, req.Dimensions), "dimensions", "")
		return
	}
	var vectors [][]float32
	err = s.queue.do(r.Context(), func(ctx context.Context) error {
		var err error
		vectors, err = e.Embed(ctx, req.Inputs)
		return err
	})
	if err != nil {
		s.writeGenerationError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, req.NewEmbeddingList(s.cfg.EmbedModel, vectors, 0))
}
