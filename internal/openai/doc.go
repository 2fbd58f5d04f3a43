// Package openai turns OpenAI API request bodies into llm requests and llm
// responses into OpenAI API response bodies: the wire types of chat
// completions, completions, embeddings, models and errors, their decoding
// and validation with errors that name the offending field, and the
// server-sent-event encoding of streams. It does no I/O beyond writing
// events to an io.Writer.
package openai
