package feedback

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"flywheel/internal/answer"
)

// Ratings run from MinRating (bad) to MaxRating (good); thumbs down is
// MinRating and thumbs up MaxRating.
const (
	MinRating = 1
	MaxRating = 5
)

// Limits of what one feedback may hold.
const (
	MaxCorrection = 16 << 10 // bytes
	MaxTags       = 16
	MaxTag        = 40 // characters
)

// Feedback is one rating of an answer.
type Feedback struct {
	ID         int64     `json:"id"`
	AnswerID   string    `json:"answer_id"`
	Owner      string    `json:"owner"`
	Rating     int       `json:"rating"`
	Correction string    `json:"correction,omitempty"`
	Tags       []string  `json:"tags"`
	Created    time.Time `json:"created"`
}

// Input is feedback as a client sends it: a Rating from 1 to 5, or
// Thumbs "up" or "down" (5 or 1), with an optional correction (the
// answer it should have been) and tags.
type Input struct {
	AnswerID   string   `json:"answer_id"`
	Rating     int      `json:"rating"`
	Thumbs     string   `json:"thumbs"`
	Correction string   `json:"correction"`
	Tags       []string `json:"tags"`
}

// FieldError is a problem with one field of an Input.
type FieldError struct {
	Field, Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Reason) }

// Check validates in and returns the feedback it gives (without ID,
// owner and time), or a *FieldError naming the field at fault.
func (in Input) Check() (Feedback, error) {
	f := Feedback{AnswerID: strings.TrimSpace(in.AnswerID), Correction: strings.TrimSpace(in.Correction)}
	if f.AnswerID == "" {
		return Feedback{}, &FieldError{"answer_id", "missing: give the answer_id that /api/ask returned"}
	}
	rating, err := in.rating()
	if err != nil {
		return Feedback{}, err
	}
	f.Rating = rating
	if !utf8.ValidString(f.Correction) {
		return Feedback{}, &FieldError{"correction", "is not valid UTF-8"}
	}
	if len(f.Correction) > MaxCorrection {
		return Feedback{}, &FieldError{"correction", fmt.Sprintf("is %d bytes, over the limit of %d", len(f.Correction), MaxCorrection)}
	}
	if f.Tags, err = CheckTags(in.Tags); err != nil {
		return Feedback{}, err
	}
	return f, nil
}

// rating reads Rating or Thumbs; giving both is fine when they agree.
func (in Input) rating() (int, error) {
	thumbs := 0
	switch strings.ToLower(strings.TrimSpace(in.Thumbs)) {
	case "":
	case "up":
		thumbs = MaxRating
	case "down":
		thumbs = MinRating
	default:
		return 0, &FieldError{"thumbs", fmt.Sprintf("%q: use \"up\" or \"down\"", in.Thumbs)}
	}
	switch {
	case in.Rating == 0 && thumbs == 0:
		return 0, &FieldError{"rating", fmt.Sprintf("missing: give a rating from %d to %d, or thumbs \"up\" or \"down\"", MinRating, MaxRating)}
	case in.Rating == 0:
		return thumbs, nil
	case in.Rating < MinRating || in.Rating > MaxRating:
		return 0, &FieldError{"rating", fmt.Sprintf("%d is out of range: use %d (bad) to %d (good)", in.Rating, MinRating, MaxRating)}
	case thumbs != 0 && thumbs != in.Rating:
		return 0, &FieldError{"thumbs", fmt.Sprintf("%q disagrees with rating %d: send one of them", in.Thumbs, in.Rating)}
	}
	return in.Rating, nil
}

// CheckTags trims tags, drops empty and repeated ones, and checks the
// rest: at most MaxTags, each up to MaxTag letters, digits, '_', '-',
// '.', ':' or '/'.
func CheckTags(tags []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if err := checkTag(t); err != nil {
			return nil, err
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, &FieldError{"tags", fmt.Sprintf("%d tags, over the limit of %d", len(out), MaxTags)}
	}
	return out, nil
}

func checkTag(t string) error {
	if utf8.RuneCountInString(t) > MaxTag {
		return &FieldError{"tags", fmt.Sprintf("tag %.20q… is longer than %d characters", t, MaxTag)}
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_-.:/", r) {
			return &FieldError{"tags", fmt.Sprintf("tag %q has %q: use letters, digits, '_', '-', '.', ':' and '/'", t, r)}
		}
	}
	return nil
}

// Record is a feedback with the answer it rates.
type Record struct {
	Feedback
	Collection string            `json:"collection"`
	Question   string            `json:"question"`
	Answer     string            `json:"answer"`
	Citations  []answer.Citation `json:"citations"`
	Confidence float64           `json:"confidence"`
	Model      string            `json:"model"`
}
