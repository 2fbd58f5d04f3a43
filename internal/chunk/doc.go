// Package chunk splits a document.Document into Chunks: passages within a
// size budget, each with byte offsets back into the document's text so an
// answer can cite the exact source.
//
// Splitting is recursive: a section (the text under one Markdown or HTML
// heading) is cut at paragraph breaks, then lines, then sentence ends
// (English . ! ? and Chinese 。！？；), then clauses, words and finally
// characters, until every piece fits; neighbouring pieces are then packed
// into chunks up to the budget, each starting with an overlap taken from
// the end of the one before. Chunks never cross a heading.
package chunk
