package train

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// A checkpoint is a directory (OUT/checkpoint): the trained parameters (a
// PEFT adapter, or params.bin with full fine-tuning), optimizer.bin (AdamW's
// step count and moments) and state.json (the data position, the seed that
// with the step number fixes every random draw, the best validation loss
// and the early-stopping count). It is written into a temporary directory
// and renamed into place, so a crash leaves the previous checkpoint whole.

// State is the progress of a run, saved in state.json.
type State struct {
	Format     string  `json:"format"`  // "flywheel-train-state"
	Version    int     `json:"version"` // 1
	Mode       string  `json:"mode"`    // "lora" or "full"
	Step       int     `json:"step"`    // optimizer steps done
	TotalSteps int     `json:"total_steps"`
	Epoch      int     `json:"epoch"`      // the epoch of the next step (from 0)
	EpochStep  int     `json:"epoch_step"` // the next step's index within its epoch
	Seed       uint64  `json:"seed"`       // with the step number, fixes shuffling and dropout
	Batch      int     `json:"batch"`
	GradAccum  int     `json:"grad_accum"`
	Packing    bool    `json:"packing"`
	MaxLen     int     `json:"max_len"`
	Data       string  `json:"data"`          // fingerprint of the training examples
	BestVal    float64 `json:"best_val_loss"` // meaningful when BestStep > 0
	BestStep   int     `json:"best_step"`     // 0: not evaluated yet
	BadEvals   int     `json:"evals_without_improvement"`
	Tokens     int64   `json:"tokens"` // trained on so far
	Seconds    float64 `json:"seconds"`
}

const (
	stateFormat    = "flywheel-train-state"
	optimizerMagic = "FWADAMW1"
	paramsMagic    = "FWPARAM1"
)

// Checkpoint names inside OUT.
const (
	CheckpointDir = "checkpoint"
	BestDir       = "best"
	MetricsName   = "metrics.jsonl"
	LossPlotName  = "loss.svg"
)

// saveCheckpoint writes dir atomically: write(tmp) fills a fresh temporary
// directory beside dir, which then replaces dir.
func saveCheckpoint(dir string, write func(tmp string) error) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(tmp)
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return fmt.Errorf("checkpoint: %w", err)
	}
	syncDir(parent)
	os.RemoveAll(old)
	return nil
}

// checkpointPath resolves a --resume argument: a checkpoint directory, or
// an output directory holding one. A crash between the two renames of
// saveCheckpoint leaves only dir.old, which is used then.
func checkpointPath(path string) (string, error) {
	for _, p := range []string{path, filepath.Join(path, CheckpointDir), filepath.Join(path, CheckpointDir+".old")} {
		if _, err := os.Stat(filepath.Join(p, "state.json")); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("resume: no checkpoint in %s (want a directory holding state.json, or an output directory with %s/)", path, CheckpointDir)
}

func writeState(dir string, s *State) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(dir, "state.json"), append(raw, '\n'))
}

func readState(dir string) (*State, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	if s.Format != stateFormat || s.Version != 1 {
		return nil, fmt.Errorf("%s: format %q version %d, want %q version 1", filepath.Join(dir, "state.json"), s.Format, s.Version, stateFormat)
	}
	return &s, nil
}

// writeOptimizer saves AdamW: magic, n, t (uint64 each after the magic),
// then M and V as little-endian f32.
func writeOptimizer(path string, o *AdamW) error {
	return writeBinary(path, optimizerMagic, uint64(len(o.M)), uint64(o.T), o.M, o.V)
}

func readOptimizer(path string, o *AdamW) error {
	t, err := readBinary(path, optimizerMagic, len(o.M), o.M, o.V)
	o.T = int(t)
	return err
}

// writeParams saves a parameter slab (full fine-tuning).
func writeParams(path string, p []float32) error {
	return writeBinary(path, paramsMagic, uint64(len(p)), 0, p)
}

func readParams(path string, p []float32) error {
	_, err := readBinary(path, paramsMagic, len(p), p)
	return err
}

func writeBinary(path, magic string, n, aux uint64, slabs ...[]float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var hdr [24]byte
	copy(hdr[:8], magic)
	binary.LittleEndian.PutUint64(hdr[8:], n)
	binary.LittleEndian.PutUint64(hdr[16:], aux)
	_, err = f.Write(hdr[:])
	buf := make([]byte, 0, 1<<16)
	for _, s := range slabs {
		for _, v := range s {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) && err == nil {
				_, err = f.Write(buf)
				buf = buf[:0]
			}
		}
	}
	if err == nil {
		_, err = f.Write(buf)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readBinary(path, magic string, n int, slabs ...[]float32) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hdr [24]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 0, fmt.Errorf("%s: header: %w", path, err)
	}
	if string(hdr[:8]) != magic {
		return 0, fmt.Errorf("%s: not a %s file", path, magic)
	}
	if got := binary.LittleEndian.Uint64(hdr[8:]); got != uint64(n) {
		return 0, fmt.Errorf("%s: holds %d parameters, the run has %d (a different adapter configuration?)", path, got, n)
	}
	buf := make([]byte, 4*n)
	for _, s := range slabs {
		if _, err := io.ReadFull(f, buf); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		for i := range s[:n] {
			s[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
	}
	return binary.LittleEndian.Uint64(hdr[16:]), nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes renames in dir durable where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
