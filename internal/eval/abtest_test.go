package eval

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"
)

type scipyCase struct {
	A, B        []float64
	Alternative Alternative
	Statistic   float64
	PValue      float64 `json:"p_value"`
	X1, N1      int
	X2, N2      int
}

// TestABAgainstSciPy checks the tests against SciPy's p-values
// (testdata/make_stats.py) within 1e-6.
func TestABAgainstSciPy(t *testing.T) {
	data, err := os.ReadFile("testdata/stats_scipy.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Welch, MannWhitneyU, ZTest []scipyCase
		SampleSizeProportions      []struct {
			P1, P2, Alpha, Power float64
			N                    int
		} `json:"sample_size_proportions"`
		SampleSizeMeans []struct {
			Delta, SD, Alpha, Power float64
			N                       int
		} `json:"sample_size_means"`
		MDEMeans []struct {
			N                int
			SD, Alpha, Power float64
			MDE              float64
		} `json:"mde_means"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	const tol = 1e-6
	check := func(name string, i int, c scipyCase, got TestResult, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s %d: %v", name, i, err)
		}
		if math.Abs(got.PValue-c.PValue) > tol || math.Abs(got.Statistic-c.Statistic) > tol*math.Max(1, math.Abs(c.Statistic)) {
			t.Errorf("%s %d (%s, n=%d/%d): got stat %.10g p %.10g, SciPy %.10g p %.10g",
				name, i, c.Alternative, len(c.A), len(c.B), got.Statistic, got.PValue, c.Statistic, c.PValue)
		}
	}
	for i, c := range ref.Welch {
		got, err := WelchTTest(c.A, c.B, c.Alternative)
		check("welch", i, c, got, err)
	}
	methods := map[string]int{}
	for i, c := range ref.MannWhitneyU {
		got, err := MannWhitneyU(c.A, c.B, c.Alternative)
		check("mannwhitneyu", i, c, got, err)
		methods[got.Method]++
	}
	if methods["exact"] == 0 || methods["asymptotic"] == 0 {
		t.Errorf("methods exercised: %v", methods)
	}
	for i, c := range ref.ZTest {
		got, err := TwoProportionZTest(c.X1, c.N1, c.X2, c.N2, c.Alternative)
		check("ztest", i, c, got, err)
	}
	if len(ref.Welch) == 0 || len(ref.MannWhitneyU) == 0 || len(ref.ZTest) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.SampleSizeProportions {
		if got, err := SampleSizeProportions(c.P1, c.P2, PowerConfig{c.Alpha, c.Power}); err != nil || got != c.N {
			t.Errorf("SampleSizeProportions(%v, %v, %v, %v) = %d, %v; want %d", c.P1, c.P2, c.Alpha, c.Power, got, err, c.N)
		}
		// The minimum detectable effect at that n is at most the planned one.
		if mde, err := MDEProportions(c.P1, c.N, PowerConfig{c.Alpha, c.Power}); err != nil || (c.P2 > c.P1 && mde > c.P2-c.P1+1e-9) {
			t.Errorf("MDEProportions(%v, %d) = %v, %v; planned %v", c.P1, c.N, mde, err, c.P2-c.P1)
		}
	}
	for _, c := range ref.SampleSizeMeans {
		if got, err := SampleSizeMeans(c.Delta, c.SD, PowerConfig{c.Alpha, c.Power}); err != nil || got != c.N {
			t.Errorf("SampleSizeMeans(%v, %v) = %d, %v; want %d", c.Delta, c.SD, got, err, c.N)
		}
	}
	for _, c := range ref.MDEMeans {
		if got, err := MDEMeans(c.N, c.SD, PowerConfig{c.Alpha, c.Power}); err != nil || math.Abs(got-c.MDE) > 1e-9 {
			t.Errorf("MDEMeans(%d, %v) = %v, %v; want %v", c.N, c.SD, got, err, c.MDE)
		}
	}
}

func TestSpecialFunctions(t *testing.T) {
	for _, c := range []struct{ got, want float64 }{
		{normalQuantile(0.975), 1.959963984540054},
		{normalSF(1.959963984540054), 0.025},
		{studentSF(2.0, 10), 0.036694017385370196}, // scipy.stats.t.sf(2, 10)
		{studentSF(-1.5, 3.5), 0.8910909064923275}, // scipy.stats.t.sf(-1.5, 3.5)
		{regIncBeta(2, 3, 0.4), 0.5248},            // I_0.4(2,3) = 0.5248 exactly
		{regIncBeta(0.5, 0.5, 0.5), 0.5},           // symmetric
		{mwuExactSF(0, 3, 4), 1},                   // P(U >= 0)
		{mwuExactSF(12, 3, 4), 1.0 / 35},           // only the extreme arrangement
	} {
		if math.Abs(c.got-c.want) > 1e-10 {
			t.Errorf("got %.15g, want %.15g", c.got, c.want)
		}
	}
}

func TestBootstrapMeanDiffCI(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	b := []float64{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	ci, err := BootstrapMeanDiffCI(context.Background(), a, b, 0.95, 4000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Estimate != 2 || ci.Low >= 2 || ci.High <= 2 {
		t.Errorf("CI %+v should contain the difference 2", ci)
	}
	// The percentile interval is close to ±1.96·SE, SE = √(2·8.25·0.9/10) ≈ 1.22.
	if w := ci.High - ci.Low; w < 3.8 || w > 5.4 {
		t.Errorf("width %v, want about 4.8", w)
	}
	again, _ := BootstrapMeanDiffCI(context.Background(), a, b, 0.95, 4000, 7)
	if again != ci {
		t.Errorf("same seed, different interval")
	}
	if _, err := TwoProportionZTest(5, 4, 1, 10, TwoSided); err == nil {
		t.Error("5 successes of 4 accepted")
	}
	if _, err := WelchTTest(a, b, "sideways"); err == nil {
		t.Error("unknown alternative accepted")
	}
}
