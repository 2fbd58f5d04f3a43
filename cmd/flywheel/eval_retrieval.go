package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"flywheel/internal/eval"
	"flywheel/internal/retrieve"
)

// runEvalRetrieval is `flywheel eval retrieval`: it searches a collection
// with every question of a QA set and scores where the gold documents
// rank. A question is answered at rank r when the r-th distinct document
// among the hits is one of its doc_ids.
func runEvalRetrieval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval retrieval", stderr)
	dataDir := dataDirFlag(fs)
	name := fs.String("collection", "", "`name` of the collection to search")
	questions := fs.String("questions", "", "questions `file` (JSON Lines with \"question\" and \"doc_ids\", as testdata/qa)")
	mode := fs.String("mode", "", "`mode`: bm25, vector or hybrid (default: hybrid with an embedding model, else bm25)")
	embedding := addEmbedFlags(fs)
	asJSON := fs.Bool("json", false, `print {"questions", "recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *questions == "" {
		fs.Usage()
		return fmt.Errorf("eval retrieval: --collection and --questions are required")
	}
	qs, err := readQuestions(*questions)
	if err != nil {
		return err
	}
	st, c, err := openForSearch(ctx, "eval retrieval", *dataDir, *name, *mode, embedding, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	r := c.Retriever()
	m, err := searchMode(r, *mode, stderr)
	if err != nil {
		return err
	}
	p := newProgress(stderr, "eval retrieval", "questions")
	s, err := scoreRetrieval(ctx, r, m, qs, func(n int) { p.Set(int64(n), int64(n), int64(len(qs))) })
	p.Done()
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"questions": s.questions, "recall@1": s.recall1,
			"recall@5": s.recall5, "recall@10": s.recall10, "mrr@10": s.mrr10, "ndcg@10": s.ndcg10})
	}
	fmt.Fprintf(stdout, "%s, %s, %d questions\nrecall@1 %.3f  recall@5 %.3f  recall@10 %.3f  MRR@10 %.3f  nDCG@10 %.3f\n",
		*name, m, s.questions, s.recall1, s.recall5, s.recall10, s.mrr10, s.ndcg10)
	return nil
}

// question is one line of a questions file.
type question struct {
	ID       string   `json:"id"`
	Question string   `json:"question"`
	DocIDs   []string `json:"doc_ids"`
}

func readQuestions(path string) ([]question, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval retrieval: %w", err)
	}
	defer f.Close()
	var qs []question
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var q question
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fmt.Errorf("eval retrieval: %s:%d: %w", path, line, err)
		}
		if q.Question == "" || len(q.DocIDs) == 0 {
			return nil, fmt.Errorf("eval retrieval: %s:%d: needs a \"question\" and at least one \"doc_ids\" entry", path, line)
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval retrieval: %s: %w", path, err)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("eval retrieval: %s has no questions", path)
	}
	return qs, nil
}

// retrievalScores are means over the questions.
type retrievalScores struct {
	questions                                 int
	recall1, recall5, recall10, mrr10, ndcg10 float64
}

// evalDepth is how many distinct documents are scored.
const evalDepth = 10

func scoreRetrieval(ctx context.Context, r *retrieve.Retriever, m retrieve.Mode, qs []question, progress func(int)) (retrievalScores, error) {
	var s retrievalScores
	for i, q := range qs {
		docs, err := rankedDocs(ctx, r, m, q.Question)
		if err != nil {
			return s, fmt.Errorf("eval retrieval: question %s: %w", q.ID, err)
		}
		rel := eval.Qrels{}
		for _, id := range q.DocIDs {
			rel[id] = 1
		}
		if rank := answeredAt(docs, rel); rank > 0 {
			s.recall1 += b2f(rank <= 1)
			s.recall5 += b2f(rank <= 5)
			s.recall10 += b2f(rank <= 10)
			s.mrr10 += 1 / float64(rank)
		}
		s.ndcg10 += eval.NDCGAt(docs, rel, evalDepth)
		progress(i + 1)
	}
	n := float64(len(qs))
	s.questions = len(qs)
	s.recall1, s.recall5, s.recall10, s.mrr10, s.ndcg10 = s.recall1/n, s.recall5/n, s.recall10/n, s.mrr10/n, s.ndcg10/n
	return s, nil
}

// rankedDocs returns the first evalDepth distinct documents of a search,
// asking for more chunks until there are that many or the index runs out.
func rankedDocs(ctx context.Context, r *retrieve.Retriever, m retrieve.Mode, text string) ([]string, error) {
	for k := 4 * evalDepth; ; k *= 4 {
		hits, err := r.Search(ctx, retrieve.Query{Text: text, K: k, Mode: m})
		if err != nil {
			return nil, err
		}
		var docs []string
		seen := map[string]bool{}
		for _, h := range hits {
			if !seen[h.Doc.ID] {
				seen[h.Doc.ID] = true
				docs = append(docs, h.Doc.ID)
			}
		}
		if len(docs) >= evalDepth || len(hits) < k {
			return docs[:min(len(docs), evalDepth)], nil
		}
	}
}

// answeredAt is the 1-based rank of the first relevant document, 0 if none.
func answeredAt(docs []string, rel eval.Qrels) int {
	for i, d := range docs {
		if rel[d] > 0 {
			return i + 1
		}
	}
	return 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
