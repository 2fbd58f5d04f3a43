// Package document turns files (plain text, Markdown, HTML, JSON Lines, PDF
// and directories of them) into Documents: an ID that is a hash of the source
// and its content, a title, the text to index, and the heading structure.
//
// Loaders never print; a file that cannot be read or parsed is reported as
// an error naming the file (and the line, for JSON Lines).
package document
