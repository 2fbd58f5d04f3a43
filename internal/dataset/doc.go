// Package dataset turns instruction-tuning files (alpaca, sharegpt, OpenAI
// messages, DPO and KTO preference data; JSON arrays or JSON lines, gzip or
// not) into validated [Example] records, and cleans, deduplicates,
// filters, describes, splits, mixes and writes them back in any of those
// formats.
//
// # Records
//
// An [Example] is a conversation of [Message]s {Role, Content} with an
// optional system prompt and tool schemas; a preference pair adds Chosen and
// Rejected answers, a KTO example a Label. Fine-tuning consumes Examples
// whatever file they came from. The roles and the alternation rule follow
// LLaMA-Factory: after the system prompt, user or observation turns are
// answered by assistant or function_call turns.
//
// # Reading and writing
//
// A [Reader] streams Examples from a file, one record in memory at a time,
// so a million-record file reads in bounded memory. It detects gzip, a JSON
// array or JSON lines, and the format from the first record's keys (or
// takes a [Format], or a [Schema] from LLaMA-Factory's dataset_info.json,
// see [DatasetInfo]). A bad record is a [RecordError] naming the file, the
// line of the offending field, the record's number, the field and the
// reason, and reading goes on with the next record. A [Writer] writes
// Examples in a format; [CanExpress] says when a format cannot hold an
// example (alpaca has no tool calls, dpo holds only preference pairs).
// Converting between formats keeps everything an Example holds, extra keys
// included; tool schemas and call arguments are kept as JSON values, so
// their spacing may change when converting to or from OpenAI messages.
//
// # Processing
//
// Each step is a small stateful type fed one Example at a time:
//
//   - [Cleaner]: Unicode NFC, control and invisible characters, whitespace,
//     HTML markup to text, and redaction of e-mail addresses, phone numbers,
//     Chinese resident ID numbers (checksum verified), IPv4/IPv6 addresses
//     and card numbers (Luhn verified), with counts;
//   - [Deduper]: exact duplicates (hash of the text with case, punctuation
//     and spacing normalised) and near-duplicates (MinHash over character
//     shingles, so Chinese works, with LSH banding) across everything added,
//     reported as [Cluster]s;
//   - [Filter]: token length by a [TokenCounter], language
//     ([DetectLanguage]), empty or short answers, [Repetition];
//   - [Stats]: counts, token-length percentiles and histograms per field,
//     turns, language mix and duplicate rate ([HistogramSVG] draws them);
//   - [Splitter]: seeded train/val/test split by ratio, optionally
//     stratified, with near-duplicate groups ([Grouper]) kept in one part,
//     and [LeakageCheck] to verify it;
//   - [PlanMix]: a weighted mix of several data sets.
package dataset
