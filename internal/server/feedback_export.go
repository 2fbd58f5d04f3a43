package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"flywheel/internal/dataset"
	"flywheel/internal/feedback"
	"flywheel/internal/prompt"
	"flywheel/internal/store"
)

// exportFeedback is GET /api/feedback/export?format=sft|dpo: the
// feedback the filters of GET /api/feedback select, as a JSON Lines
// training set. sft holds supervised examples (corrections, and answers
// rated 4 or more) in OpenAI's messages format; dpo holds preference
// pairs in TRL's {"prompt", "chosen", "rejected"} format. as=alpaca,
// sharegpt or messages picks another format. Each prompt is the answer
// template rendered with the passages the answers cited, so that a model
// trained on it sees the prompts it serves.
func (s *Server) exportFeedback(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	pairs, format, msg := exportFormat(v.Get("format"), v.Get("as"))
	if msg != "" {
		writeErrorParam(w, http.StatusBadRequest, msg, "format", "")
		return
	}
	q, ok := s.feedbackQuery(w, r)
	if !ok {
		return
	}
	examples, err := s.trainingExamples(r.Context(), q, pairs)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	name := "feedback"
	if q.Collection != "" {
		name += "-" + q.Collection
	}
	name += "-" + map[bool]string{false: "sft", true: "dpo"}[pairs] + ".jsonl"
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("X-Examples", strconv.Itoa(len(examples)))
	dw := dataset.NewWriter(w, dataset.WriterOptions{Format: format, JSONL: true})
	for _, ex := range examples {
		if err := dw.Write(ex); err != nil {
			s.cfg.Logger.Error("exporting feedback", "error", err.Error())
			return
		}
	}
	dw.Close()
}

// exportFormat reads format (sft or dpo) and as (the file format).
func exportFormat(kind, as string) (pairs bool, f dataset.Format, msg string) {
	switch kind {
	case "", "sft":
		f = dataset.FormatMessages
	case "dpo":
		pairs, f = true, dataset.FormatDPO
	default:
		return false, "", fmt.Sprintf("format %q: use sft (supervised examples) or dpo (preference pairs)", kind)
	}
	if as == "" {
		return pairs, f, ""
	}
	f, err := dataset.ParseFormat(as)
	if err != nil || f == dataset.FormatKTO || f == dataset.FormatDPO && !pairs {
		return false, "", fmt.Sprintf("as=%q: use messages, sharegpt or alpaca (or dpo with format=dpo)", as)
	}
	return pairs, f, ""
}

// feedbackRecords are the feedback rows q selects, with the answers they
// rate.
func (s *Server) feedbackRecords(ctx context.Context, q store.FeedbackQuery) ([]feedback.Record, error) {
	rows, err := s.cfg.Store.FeedbackRecords(ctx, q)
	if err != nil {
		return nil, err
	}
	recs := make([]feedback.Record, len(rows))
	for i, row := range rows {
		recs[i] = feedbackRecord(row)
	}
	return recs, nil
}

// trainingExamples turns the feedback q selects into training examples:
// supervised ones, or preference pairs.
func (s *Server) trainingExamples(ctx context.Context, q store.FeedbackQuery, pairs bool) ([]*dataset.Example, error) {
	recs, err := s.feedbackRecords(ctx, q)
	if err != nil {
		return nil, err
	}
	picked := feedback.SFT(recs, feedback.Thresholds{})
	if pairs {
		picked = feedback.Pairs(recs, feedback.Thresholds{})
	}
	tpl, err := s.answerTemplate()
	if err != nil {
		return nil, err
	}
	out := make([]*dataset.Example, 0, len(picked))
	for _, ex := range picked {
		d, err := s.renderExample(tpl, ex, pairs)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// defaultPrompts is the embedded template library, opened once.
var defaultPrompts = sync.OnceValues(func() (*prompt.Library, error) { return prompt.Open("") })

// answerTemplate is the template /api/ask answers with.
func (s *Server) answerTemplate() (*prompt.Template, error) {
	p := s.cfg.Answer.Pipeline
	lib := p.Prompts
	if lib == nil {
		var err error
		if lib, err = defaultPrompts(); err != nil {
			return nil, err
		}
	}
	name := p.Template
	if name == "" {
		name = "rag_answer"
	}
	return lib.Get(name)
}

// renderExample renders a feedback example with the answer template: the
// prompt (system and user turns) and the answer to learn, or the chosen
// and rejected answers of a pair.
func (s *Server) renderExample(tpl *prompt.Template, ex feedback.Example, pair bool) (*dataset.Example, error) {
	passages := make([]prompt.Passage, len(ex.Passages))
	for i, c := range ex.Passages {
		passages[i] = prompt.Passage{ID: c.ChunkID, DocID: c.DocID, Title: c.Title, Text: c.Text, Start: c.Start, End: c.End}
	}
	budget := s.cfg.Answer.Pipeline.Budget
	if budget <= 0 {
		budget = 2000
	}
	count := s.cfg.Answer.Pipeline.Count
	if count == nil {
		count = prompt.ApproxTokens
	}
	vars := prompt.Vars{"question": prompt.String(ex.Question), "passages": prompt.Passages(prompt.Pack(passages, budget, count))}
	var msgs []prompt.Message
	var err error
	if pair {
		msgs, err = tpl.Render(vars)
	} else {
		msgs, err = tpl.RenderTraining(vars, ex.Response)
	}
	if err != nil {
		return nil, fmt.Errorf("formatting feedback as training data: %w", err)
	}
	d := &dataset.Example{}
	for _, m := range msgs {
		if m.Role == "system" && len(d.Messages) == 0 {
			d.System = m.Content
			continue
		}
		d.Messages = append(d.Messages, dataset.Message{Role: dataset.Role(m.Role), Content: m.Content})
	}
	if pair {
		d.Chosen = &dataset.Message{Role: dataset.RoleAssistant, Content: ex.Response}
		d.Rejected = &dataset.Message{Role: dataset.RoleAssistant, Content: ex.Rejected}
	}
	ids, _ := json.Marshal(ex.AnswerIDs)
	d.Extra = []dataset.Field{{Key: "answer_ids", Value: ids}}
	return d, nil
}
