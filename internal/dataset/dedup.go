package dataset

import (
	"math"
	"slices"
)

// DedupOptions configures duplicate detection. The zero value finds exact
// duplicates and near-duplicates of Jaccard similarity 0.8 or more over
// 5-character shingles of the whole example.
type DedupOptions struct {
	// Threshold is the Jaccard similarity of shingle sets at which two
	// records are near-duplicates; 0 means 0.8.
	Threshold float64
	// Shingle is the number of characters per shingle; 0 means 5.
	Shingle int
	// ExactOnly turns near-duplicate detection off.
	ExactOnly bool
	// PromptOnly compares the prompts (system prompt and messages before
	// the answer) instead of whole examples: the same question answered
	// twice is a duplicate.
	PromptOnly bool
}

func (o DedupOptions) withDefaults() DedupOptions {
	if o.Threshold <= 0 {
		o.Threshold = 0.8
	}
	if o.Shingle <= 0 {
		o.Shingle = 5
	}
	return o
}

// text is what the options compare.
func (o DedupOptions) text(ex *Example) string {
	if !o.PromptOnly {
		return ex.Text()
	}
	p := Example{System: ex.System, Messages: ex.Prompt()}
	return p.Text()
}

// Duplicate is a record found to repeat an earlier one.
type Duplicate struct {
	Pos        Position `json:"pos"`        // the duplicate, which dedup drops
	Of         Position `json:"of"`         // the earlier record that is kept
	Similarity float64  `json:"similarity"` // estimated Jaccard similarity; 1 when exact
	Exact      bool     `json:"exact"`      // equal after normalising case, punctuation and spaces
}

// Cluster is a kept record and the duplicates of it that were dropped.
type Cluster struct {
	Kept       Position    `json:"kept"`
	Duplicates []Duplicate `json:"duplicates"`
}

// DedupReport sums a Deduper's work.
type DedupReport struct {
	Records   int     `json:"records"`
	Kept      int     `json:"kept"`
	Exact     int     `json:"exact_duplicates"`
	Near      int     `json:"near_duplicates"`
	Clusters  int     `json:"clusters"`
	Threshold float64 `json:"threshold"`
	Shingle   int     `json:"shingle"`
	Bands     int     `json:"lsh_bands"`
	Rows      int     `json:"lsh_rows"`
}

// Deduper finds records that repeat an earlier record, exactly (after
// normalisation) or nearly (MinHash with LSH), across everything added to
// it, so several files are deduplicated against each other. Memory grows by
// about 140 bytes a kept record.
type Deduper struct {
	opt    DedupOptions
	sh     *shingler
	exact  map[uint64]uint32 // normalised hash → record number
	index  *lshIndex
	kept   []uint32 // index id → record number
	pos    positions
	dups   []dupEntry
	report DedupReport
	sig    signature
}

type dupEntry struct {
	id, of uint32
	sim    float32
	exact  bool
}

// NewDeduper returns an empty Deduper.
func NewDeduper(opt DedupOptions) *Deduper {
	opt = opt.withDefaults()
	d := &Deduper{opt: opt, sh: newShingler(opt.Shingle), exact: map[uint64]uint32{}}
	d.report.Threshold, d.report.Shingle = opt.Threshold, opt.Shingle
	if !opt.ExactOnly {
		d.index = newLSHIndex(opt.Threshold)
		d.report.Bands, d.report.Rows = d.index.bands, d.index.rows
	}
	return d
}

// Add checks ex against the records kept so far. When it repeats one it
// returns the Duplicate and true, and ex is not kept; otherwise ex is kept
// and later records are checked against it too.
func (d *Deduper) Add(ex *Example) (Duplicate, bool) {
	id := uint32(d.report.Records)
	d.report.Records++
	d.pos.add(ex.Pos)
	runes := d.sh.normalize(d.opt.text(ex))
	h := exactHash(runes)
	if of, ok := d.exact[h]; ok {
		d.report.Exact++
		return d.duplicate(id, of, 1, true), true
	}
	var c compactSig
	signed := d.index != nil && d.sh.sign(runes, &d.sig)
	if signed {
		c = d.sig.compact()
		if best, sim, ok := d.index.query(&d.sig, &c); ok {
			d.report.Near++
			return d.duplicate(id, d.kept[best], sim, false), true
		}
	}
	d.exact[h] = id
	d.report.Kept++
	if signed {
		d.index.insert(&d.sig, c, true)
		d.kept = append(d.kept, id)
	}
	return Duplicate{}, false
}

func (d *Deduper) duplicate(id, of uint32, sim float64, exact bool) Duplicate {
	d.dups = append(d.dups, dupEntry{id: id, of: of, sim: float32(sim), exact: exact})
	return Duplicate{Pos: d.pos.get(id), Of: d.pos.get(of), Similarity: sim, Exact: exact}
}

// Report says what was found so far.
func (d *Deduper) Report() DedupReport {
	r := d.report
	r.Clusters = len(d.Clusters())
	return r
}

// Clusters lists each kept record that has duplicates, with them, in the
// order the kept records were added.
func (d *Deduper) Clusters() []Cluster {
	dups := slices.Clone(d.dups)
	slices.SortStableFunc(dups, func(a, b dupEntry) int { return int(a.of) - int(b.of) })
	var out []Cluster
	for i := 0; i < len(dups); {
		j := i
		c := Cluster{Kept: d.pos.get(dups[i].of)}
		for ; j < len(dups) && dups[j].of == dups[i].of; j++ {
			e := dups[j]
			sim := math.Round(float64(e.sim)*1e4) / 1e4 // stored as float32: keep the digits that mean something
			c.Duplicates = append(c.Duplicates, Duplicate{Pos: d.pos.get(e.id), Of: c.Kept, Similarity: sim, Exact: e.exact})
		}
		out = append(out, c)
		i = j
	}
	return out
}

// positions stores record positions compactly: 12 bytes each.
type positions struct {
	files  []string
	fileID map[string]uint16
	recs   []packedPos
}

type packedPos struct {
	file        uint16
	line, index uint32
}

func (p *positions) add(pos Position) {
	if p.fileID == nil {
		p.fileID = map[string]uint16{}
	}
	f, ok := p.fileID[pos.File]
	if !ok {
		f = uint16(len(p.files))
		p.files = append(p.files, pos.File)
		p.fileID[pos.File] = f
	}
	p.recs = append(p.recs, packedPos{file: f, line: uint32(pos.Line), index: uint32(pos.Index)})
}

func (p *positions) get(i uint32) Position {
	r := p.recs[i]
	return Position{File: p.files[r.file], Line: int(r.line), Index: int(r.index)}
}

// Grouper puts records into groups of (near-)duplicates, transitively: if
// A is like B and B like C, all three are one group. Split uses it to keep
// a group in one part.
type Grouper struct {
	opt    DedupOptions
	sh     *shingler
	exact  map[uint64]uint32
	index  *lshIndex
	ids    []uint32 // index id → record number
	parent []uint32
	sig    signature
}

// NewGrouper returns an empty Grouper.
func NewGrouper(opt DedupOptions) *Grouper {
	opt = opt.withDefaults()
	g := &Grouper{opt: opt, sh: newShingler(opt.Shingle), exact: map[uint64]uint32{}}
	if !opt.ExactOnly {
		g.index = newLSHIndex(opt.Threshold)
	}
	return g
}

// Add puts ex in a group and returns its record number (0, 1, ...).
func (g *Grouper) Add(ex *Example) int {
	id := uint32(len(g.parent))
	g.parent = append(g.parent, id)
	runes := g.sh.normalize(g.opt.text(ex))
	h := exactHash(runes)
	if of, ok := g.exact[h]; ok {
		g.union(id, of)
		return int(id)
	}
	g.exact[h] = id
	if g.index != nil && g.sh.sign(runes, &g.sig) {
		c := g.sig.compact()
		g.index.similar(&g.sig, &c, func(other uint32, _ float64) { g.union(id, g.ids[other]) })
		g.index.insert(&g.sig, c, true)
		g.ids = append(g.ids, id)
	}
	return int(id)
}

// Group returns the smallest record number of the record's group.
func (g *Grouper) Group(id int) int { return int(g.find(uint32(id))) }

// Len is the number of records added.
func (g *Grouper) Len() int { return len(g.parent) }

func (g *Grouper) find(i uint32) uint32 {
	for g.parent[i] != i {
		g.parent[i] = g.parent[g.parent[i]]
		i = g.parent[i]
	}
	return i
}

func (g *Grouper) union(a, b uint32) {
	ra, rb := g.find(a), g.find(b)
	if ra == rb {
		return
	}
	if ra < rb {
		g.parent[rb] = ra
	} else {
		g.parent[ra] = rb
	}
}
