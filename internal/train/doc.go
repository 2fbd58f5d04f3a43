// Package train is supervised fine-tuning: a base model and tokenized
// examples → a trained LoRA adapter (or fully fine-tuned weights), with the
// training strategy practitioners expect: loss masks on prompt tokens,
// batches and packing, gradient accumulation, AdamW, learning-rate
// schedules, global-norm clipping, validation with early stopping,
// atomic checkpoints that resume on the same trajectory, metrics and
// progress events.
package train
