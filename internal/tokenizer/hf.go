package tokenizer

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Hugging Face tokenizers ship as tokenizer.json (the model, its vocabulary
// and the normalizer, pre-tokenizer, post-processor and decoder around it)
// next to tokenizer_config.json (special tokens, whether to add BOS/EOS, the
// chat template). This file reads both.

// FromHFDir reads the tokenizer of a Hugging Face model directory:
// tokenizer.json, and tokenizer_config.json when present.
func FromHFDir(dir string) (*Tokenizer, error) {
	return FromHFFile(filepath.Join(dir, "tokenizer.json"))
}

// FromHFFile reads a tokenizer.json and the tokenizer_config.json (and
// chat_template.jinja) beside it when present.
func FromHFFile(path string) (*Tokenizer, error) {
	dir := filepath.Dir(path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := ParseHF(data, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if t.chatTemplate == "" {
		// Newer exports keep the template in its own file.
		if b, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja")); err == nil {
			t.chatTemplate = string(b)
		}
	}
	return t, nil
}

// hfTokenizer is the part of tokenizer.json this package reads.
type hfTokenizer struct {
	AddedTokens   []hfAddedToken `json:"added_tokens"`
	Normalizer    *hfComponent   `json:"normalizer"`
	PreTokenizer  *hfComponent   `json:"pre_tokenizer"`
	PostProcessor *hfComponent   `json:"post_processor"`
	Decoder       *hfComponent   `json:"decoder"`
	Model         hfModel        `json:"model"`
}

type hfAddedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

// hfComponent is a normalizer, pre-tokenizer, post-processor or decoder:
// the fields of every type this package understands, by JSON name.
type hfComponent struct {
	Type          string        `json:"type"`
	Normalizers   []hfComponent `json:"normalizers"`
	PreTokenizers []hfComponent `json:"pretokenizers"`
	Processors    []hfComponent `json:"processors"`
	Decoders      []hfComponent `json:"decoders"`

	Pattern struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content  string `json:"content"`  // Replace
	Prepend  string `json:"prepend"`  // Prepend
	Behavior string `json:"behavior"` // Split

	Replacement    string `json:"replacement"`      // Metaspace
	PrependScheme  string `json:"prepend_scheme"`   // Metaspace
	AddPrefixSpace *bool  `json:"add_prefix_space"` // Metaspace, ByteLevel
	Split          *bool  `json:"split"`            // Metaspace
	UseRegex       *bool  `json:"use_regex"`        // ByteLevel

	Lowercase          *bool  `json:"lowercase"`     // BertNormalizer
	StripAccents       *bool  `json:"strip_accents"` // BertNormalizer
	PrecompiledCharmap string `json:"precompiled_charsmap"`

	Single []json.RawMessage `json:"single"` // TemplateProcessing
	Cls    []any             `json:"cls"`    // BertProcessing, RobertaProcessing
	Sep    []any             `json:"sep"`
}

// leaves flattens Sequence components.
func (c *hfComponent) leaves() []*hfComponent {
	if c == nil {
		return nil
	}
	var out []*hfComponent
	for _, list := range [][]hfComponent{c.Normalizers, c.PreTokenizers, c.Processors, c.Decoders} {
		for i := range list {
			out = append(out, list[i].leaves()...)
		}
	}
	if c.Type != "Sequence" {
		out = append(out, c)
	}
	return out
}

func (c *hfComponent) find(typ string) *hfComponent {
	for _, l := range c.leaves() {
		if l.Type == typ {
			return l
		}
	}
	return nil
}

type hfModel struct {
	Type                    string          `json:"type"`
	UnkToken                *string         `json:"unk_token"`
	UnkID                   *int            `json:"unk_id"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    int             `json:"max_input_chars_per_word"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// hfConfig is the part of tokenizer_config.json this package reads.
type hfConfig struct {
	BOS          hfTokenName     `json:"bos_token"`
	EOS          hfTokenName     `json:"eos_token"`
	UNK          hfTokenName     `json:"unk_token"`
	PAD          hfTokenName     `json:"pad_token"`
	AddBOS       *bool           `json:"add_bos_token"`
	AddEOS       *bool           `json:"add_eos_token"`
	ChatTemplate json.RawMessage `json:"chat_template"`
}

// hfTokenName is a special token written as a string or as an added-token
// object {"content": …}.
type hfTokenName string

func (n *hfTokenName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = hfTokenName(s)
		return nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("special token is neither a string nor an object with content: %w", err)
	}
	*n = hfTokenName(obj.Content)
	return nil
}

// chatTemplate returns the default chat template: chat_template is a string,
// or a list of {name, template} of which "default" (else the first) is used.
func (c *hfConfig) chatTemplate() (string, error) {
	if len(c.ChatTemplate) == 0 || string(c.ChatTemplate) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(c.ChatTemplate, &s); err == nil {
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(c.ChatTemplate, &named); err != nil {
		return "", fmt.Errorf("chat_template is neither a string nor a list of {name, template}: %w", err)
	}
	for _, t := range named {
		if t.Name == "default" {
			return t.Template, nil
		}
	}
	if len(named) > 0 {
		return named[0].Template, nil
	}
	return "", nil
}

// ParseHF builds a tokenizer from the bytes of a tokenizer.json and of its
// tokenizer_config.json (nil when there is none). Supported models: BPE
// (byte-level, or SentencePiece-style with byte fallback), WordPiece and
// Unigram.
func ParseHF(tokenizerJSON, configJSON []byte) (*Tokenizer, error) {
	var tj hfTokenizer
	if err := json.Unmarshal(tokenizerJSON, &tj); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", jsonErrorAt(tokenizerJSON, err))
	}
	var cfg hfConfig
	if len(configJSON) > 0 {
		if err := json.Unmarshal(configJSON, &cfg); err != nil {
			return nil, fmt.Errorf("tokenizer_config.json: %w", jsonErrorAt(configJSON, err))
		}
	}
	typ := tj.Model.Type
	if typ == "" { // older files leave the type out
		switch {
		case len(tj.Model.Merges) > 0:
			typ = "BPE"
		case strings.HasPrefix(strings.TrimSpace(string(tj.Model.Vocab)), "["):
			typ = "Unigram"
		default:
			typ = "WordPiece"
		}
	}
	s, err := hfVocab(&tj, typ)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	s.bos, s.eos, s.unk, s.pad, s.eot, s.eom = -1, -1, -1, -1, -1, -1
	if tj.Model.UnkID != nil {
		s.unk = *tj.Model.UnkID
	} else if tj.Model.UnkToken != nil {
		s.unk = s.idOf(*tj.Model.UnkToken)
	}
	if s.unk >= 0 && s.unk < len(s.types) && s.types[s.unk] == TypeControl {
		s.types[s.unk] = TypeUnknown
	}
	hfSpecialTokens(&s, &tj, &cfg)
	if s.chatTemplate, err = cfg.chatTemplate(); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: %w", err)
	}

	var newModel func(t *Tokenizer) (model, error)
	switch typ {
	case "BPE":
		newModel, err = hfBPE(&tj, &s)
	case "WordPiece":
		newModel = hfWordPiece(&tj, &s)
	case "Unigram":
		newModel, err = hfUnigram(&tj, &s)
	default:
		return nil, fmt.Errorf("tokenizer.json: model type %q is not supported (supported: BPE, WordPiece, Unigram)", typ)
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	return build(s, newModel)
}

// jsonErrorAt adds the line and column of a JSON syntax error.
func jsonErrorAt(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + strings.Count(string(data[:min(int(se.Offset), len(data))]), "\n")
		return fmt.Errorf("line %d (byte offset %d): %w", line, se.Offset, err)
	}
	return err
}

// idOf returns the id of a piece, or -1.
func (s *spec) idOf(piece string) int {
	for id, p := range s.pieces {
		if p == piece && piece != "" {
			return id
		}
	}
	return -1
}

// maxHFVocab bounds the ids a tokenizer.json may use, so a corrupt id cannot
// allocate without limit.
const maxHFVocab = 1 << 22

// hfVocab reads the vocabulary and the added tokens into pieces and types.
func hfVocab(tj *hfTokenizer, typ string) (spec, error) {
	var s spec
	set := func(id int, piece string, score float32, tt TokenType) error {
		if id < 0 || id >= maxHFVocab {
			return fmt.Errorf("token %q has id %d, outside 0..%d", piece, id, maxHFVocab-1)
		}
		for len(s.pieces) <= id {
			s.pieces = append(s.pieces, "")
			s.scores = append(s.scores, 0)
			s.types = append(s.types, TypeUnused)
		}
		s.pieces[id], s.scores[id], s.types[id] = piece, score, tt
		return nil
	}
	if typ == "Unigram" {
		var entries [][2]any
		if err := json.Unmarshal(tj.Model.Vocab, &entries); err != nil {
			return s, fmt.Errorf("model.vocab: want a list of [piece, score]: %w", err)
		}
		for id, e := range entries {
			piece, ok1 := e[0].(string)
			score, ok2 := e[1].(float64)
			if !ok1 || !ok2 {
				return s, fmt.Errorf("model.vocab entry %d: want [piece, score], got %v", id, e)
			}
			if err := set(id, piece, float32(score), pieceType(piece)); err != nil {
				return s, err
			}
		}
	} else {
		var vocab map[string]int
		if err := json.Unmarshal(tj.Model.Vocab, &vocab); err != nil {
			return s, fmt.Errorf("model.vocab: want an object of piece: id: %w", err)
		}
		for piece, id := range vocab {
			if err := set(id, piece, 0, pieceType(piece)); err != nil {
				return s, err
			}
		}
	}
	for _, at := range tj.AddedTokens {
		tt := TypeUserDefined
		if at.Special {
			tt = TypeControl
		}
		if err := set(at.ID, at.Content, 0, tt); err != nil {
			return s, fmt.Errorf("added_tokens: %w", err)
		}
	}
	if len(s.pieces) == 0 {
		return s, fmt.Errorf("model.vocab is empty")
	}
	return s, nil
}

// pieceType is the type of a vocabulary piece by its text.
func pieceType(p string) TokenType {
	if _, ok := parseByteToken(p); ok {
		return TypeByte
	}
	return TypeNormal
}

// hfSpecialTokens sets BOS/EOS/UNK/PAD and whether Encode adds BOS/EOS,
// from tokenizer_config.json and the post-processor.
func hfSpecialTokens(s *spec, tj *hfTokenizer, cfg *hfConfig) {
	pp := tj.PostProcessor
	if tp := pp.find("TemplateProcessing"); tp != nil {
		seenA := false
		for _, raw := range tp.Single {
			var item struct {
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
				Sequence *struct {
					ID string `json:"id"`
				} `json:"Sequence"`
			}
			if json.Unmarshal(raw, &item) != nil {
				continue
			}
			switch {
			case item.Sequence != nil:
				seenA = true
			case item.SpecialToken != nil && !seenA:
				s.bos, s.addBOS = s.idOf(item.SpecialToken.ID), true
			case item.SpecialToken != nil:
				s.eos, s.addEOS = s.idOf(item.SpecialToken.ID), true
			}
		}
	}
	for _, typ := range []string{"BertProcessing", "RobertaProcessing"} {
		if bp := pp.find(typ); bp != nil && len(bp.Cls) > 0 && len(bp.Sep) > 0 {
			cls, _ := bp.Cls[0].(string)
			sep, _ := bp.Sep[0].(string)
			s.bos, s.eos, s.addBOS, s.addEOS = s.idOf(cls), s.idOf(sep), true, true
		}
	}
	for _, k := range []struct {
		name hfTokenName
		id   *int
	}{{cfg.BOS, &s.bos}, {cfg.EOS, &s.eos}, {cfg.UNK, &s.unk}, {cfg.PAD, &s.pad}} {
		if k.name != "" {
			if id := s.idOf(string(k.name)); id >= 0 {
				*k.id = id
			}
		}
	}
	if cfg.AddBOS != nil {
		s.addBOS = *cfg.AddBOS
	}
	if cfg.AddEOS != nil {
		s.addEOS = *cfg.AddEOS
	}
}

// hfMerges reads model.merges: "a b" strings or [a, b] pairs.
func hfMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("model.merges: want a list of \"a b\" strings or [a, b] pairs: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, line := range lines {
		a, b, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("model.merges entry %d %q is not two pieces separated by a space", i, line)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// hfBPE configures BPE: byte-level when a ByteLevel pre-tokenizer or
// decoder is present, SentencePiece-style otherwise.
func hfBPE(tj *hfTokenizer, s *spec) (func(t *Tokenizer) (model, error), error) {
	merges, err := hfMerges(tj.Model.Merges)
	if err != nil {
		return nil, err
	}
	opt := bpeOptions{ignoreMerges: tj.Model.IgnoreMerges}
	byteLevel := tj.PreTokenizer.find("ByteLevel") != nil || tj.Decoder.find("ByteLevel") != nil
	if byteLevel {
		opt.byteLevel = true
		if opt.pre, err = hfByteLevelSplit(tj.PreTokenizer); err != nil {
			return nil, err
		}
		if bl := tj.PreTokenizer.find("ByteLevel"); bl != nil && bl.AddPrefixSpace != nil && *bl.AddPrefixSpace {
			opt.bytePrefix = true
		}
		s.addSpacePrefix = false
		return newBPE(merges, opt), nil
	}
	// SentencePiece-style: spaces are "▁"; a prefix "▁" comes from a
	// Prepend normalizer (every fragment) or a Metaspace pre-tokenizer.
	opt.metaspace = true
	if p := tj.Normalizer.find("Prepend"); p != nil && p.Prepend == spaceMarker {
		opt.prefixAll = true
	}
	if ms := tj.PreTokenizer.find("Metaspace"); ms != nil {
		switch {
		case ms.PrependScheme == "first":
			opt.prefixFirst = true
		case ms.PrependScheme == "always", ms.PrependScheme == "" && (ms.AddPrefixSpace == nil || *ms.AddPrefixSpace):
			opt.prefixAll = true
		}
		if ms.Split == nil || *ms.Split {
			opt.pre = preTokenizer{name: "metaspace", split: splitMetaspace}
		}
	}
	s.addSpacePrefix = opt.prefixAll || opt.prefixFirst
	return newBPE(merges, opt), nil
}

// splitMetaspace cuts before every "▁", as Metaspace(split=true) does.
func splitMetaspace(s *runes, a, b int, emit func(a, b int)) {
	start := a
	for p := a + 1; p < b; p++ {
		if s.rs[p] == '▁' {
			emit(start, p)
			start = p
		}
	}
	if start < b {
		emit(start, b)
	}
}

// hfByteLevelSplit maps the Split regexes and ByteLevel(use_regex) of a
// pre-tokenizer to splitters.
func hfByteLevelSplit(pt *hfComponent) (preTokenizer, error) {
	var steps []splitFunc
	var names []string
	for _, c := range pt.leaves() {
		switch c.Type {
		case "ByteLevel":
			if c.UseRegex == nil || *c.UseRegex {
				steps, names = append(steps, splitGPT2), append(names, "gpt-2")
			}
		case "Split":
			if c.Pattern.Regex == nil {
				return preTokenizer{}, fmt.Errorf("pre_tokenizer: Split on a plain string is not supported")
			}
			step, name, ok := splitterForRegex(*c.Pattern.Regex)
			if !ok {
				return preTokenizer{}, fmt.Errorf("pre_tokenizer: Split regex %q is not supported (supported: the GPT-2, LLaMA-3, Qwen2 and DeepSeek-LLM pre-tokenizers)", *c.Pattern.Regex)
			}
			steps, names = append(steps, step), append(names, name)
		default:
			return preTokenizer{}, fmt.Errorf("pre_tokenizer type %q is not supported with a byte-level model", c.Type)
		}
	}
	switch {
	case len(steps) == 0:
		return preTokenizer{}, nil
	case len(names) == 6 && names[0] == "newline":
		return preTokenizer{name: "deepseek-llm", split: sequence(steps...)}, nil
	}
	return preTokenizer{name: strings.Join(names, "+"), split: sequence(steps...)}, nil
}

// splitterForRegex recognises the regexes of the supported pre-tokenizers.
func splitterForRegex(re string) (splitFunc, string, bool) {
	switch {
	case re == regexGPT2:
		return splitGPT2, "gpt-2", true
	case re == regexLlama3 || re == strings.Replace(regexLlama3, `(?i:'s|'t|'re|'ve|'m|'ll|'d)`, `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`, 1):
		return splitLlama3(3), "llama3", true
	case re == regexQwen2 || re == strings.Replace(regexQwen2, `(?i:'s|'t|'re|'ve|'m|'ll|'d)`, `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`, 1):
		return splitLlama3(1), "qwen2", true
	case re == "[\r\n]":
		return regexStep(matchNewline), "newline", true
	case strings.HasPrefix(re, `\s?[A-Za-zµÀ-ÖØ-öø-ƺ`):
		return regexStep(matchSpaceThen(isDeepseekLetter)), "letters", true
	case strings.HasPrefix(re, `\s?[!-/:-~`):
		return regexStep(matchSpaceThen(isDeepseekPunct)), "punct", true
	case re == `\s+$`:
		return splitTrailingSpace, "trailing-space", true
	case strings.HasPrefix(re, "[一-龥"):
		return regexStep(matchRun(isDeepseekCJK)), "cjk", true
	case re == `\p{N}+`:
		return regexStep(matchRun(func(r rune) bool { return classOf(r) == classNumber })), "digits", true
	}
	return nil, "", false
}

// hfWordPiece configures WordPiece from the BertNormalizer.
func hfWordPiece(tj *hfTokenizer, s *spec) func(t *Tokenizer) (model, error) {
	opt := wordPieceOptions{contPrefix: "##", maxChars: tj.Model.MaxInputCharsPerWord}
	if p := tj.Model.ContinuingSubwordPrefix; p != nil {
		opt.contPrefix = *p
	}
	if bn := tj.Normalizer.find("BertNormalizer"); bn != nil {
		opt.lowercase = bn.Lowercase == nil || *bn.Lowercase
		opt.stripAccents = opt.lowercase
		if bn.StripAccents != nil {
			opt.stripAccents = *bn.StripAccents
		}
	}
	s.addSpacePrefix = true // decoding joins words with spaces
	return newWordPiece(opt)
}

// hfUnigram configures the unigram model: Precompiled normalization,
// Metaspace, and whitespace collapsing (WhitespaceSplit or Replace " {2,}").
func hfUnigram(tj *hfTokenizer, s *spec) (func(t *Tokenizer) (model, error), error) {
	opt := unigramOptions{byteFallback: tj.Model.ByteFallback}
	if pc := tj.Normalizer.find("Precompiled"); pc != nil && pc.PrecompiledCharmap != "" {
		blob, err := base64.StdEncoding.DecodeString(pc.PrecompiledCharmap)
		if err != nil {
			return nil, fmt.Errorf("normalizer Precompiled: precompiled_charsmap is not base64: %w", err)
		}
		if opt.charsmap, err = parseCharsmap(blob); err != nil {
			return nil, fmt.Errorf("normalizer Precompiled: %w", err)
		}
	}
	if ms := tj.PreTokenizer.find("Metaspace"); ms != nil {
		opt.addPrefix = ms.PrependScheme != "never" && (ms.AddPrefixSpace == nil || *ms.AddPrefixSpace)
	}
	if tj.PreTokenizer.find("WhitespaceSplit") != nil {
		opt.mergeSpaces = true
	}
	for _, r := range tj.Normalizer.leaves() {
		if r.Type == "Replace" && r.Pattern.Regex != nil && *r.Pattern.Regex == " {2,}" {
			opt.mergeSpaces = true
		}
	}
	s.addSpacePrefix = opt.addPrefix || opt.mergeSpaces
	return newUnigram(opt), nil
}
