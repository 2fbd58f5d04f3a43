package eval

import (
	"math"
	"testing"
)

// TestMeteorReference checks NLTK's METEOR on the shared cases (exact and
// stem stages; see Meteor for the WordNet stage).
func TestMeteorReference(t *testing.T) {
	for _, c := range loadCases(t, "meteor_cases.json") {
		var s MeteorConfig
		decode(t, c, c.Settings, &s)
		var want map[string]float64
		decode(t, c, c.Expected, &want)
		got := 0.0
		for i, h := range c.Hypotheses {
			got += Meteor(h, c.References[i], s)
		}
		near(t, c, "meteor", got/float64(len(c.Hypotheses)), want["meteor"])
	}
}

// TestMeteorHand checks the stages on cases worked out by hand from
// NLTK's algorithm.
func TestMeteorHand(t *testing.T) {
	cases := []struct {
		name      string
		hyp       string
		refs      []string
		want      float64
		tolerance float64
	}{
		// 3 exact matches in one chunk: P = R = 1, penalty 0.5·(1/3)³.
		{"identical", "the cat sat", []string{"the cat sat"}, 1 - 0.5/27, 1e-12},
		{"nothing matches", "dogs bark", []string{"the cat sat"}, 0, 0},
		{"empty hypothesis", "", []string{"the cat sat"}, 0, 0},
		// "sits"/"sit" match by stem: 2 matches of 2 and 3 words, 1 chunk.
		// P = 1, R = 2/3, Fmean = (2/3)/(0.9 + 0.1·2/3), penalty 0.5/8.
		{"stem stage", "cat sits", []string{"the cat sit"}, (1 - 0.5/8) * (2.0 / 3) / (0.9 + 0.1*2/3), 1e-12},
		// Case is ignored; the better reference wins.
		{"best of refs", "The Cat", []string{"a dog", "the cat"}, (1 - 0.5/8), 1e-12},
	}
	for _, c := range cases {
		if got := Meteor(c.hyp, c.refs, MeteorConfig{}); math.Abs(got-c.want) > c.tolerance {
			t.Errorf("%s: got %.15g, want %.15g", c.name, got, c.want)
		}
	}
}
