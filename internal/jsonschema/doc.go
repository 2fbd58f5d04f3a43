// Package jsonschema turns schema bytes into a validator and a
// character-level grammar: Compile reads a JSON Schema (the subset that
// structured output needs), Validate checks a document against it and names
// the JSON pointer of every offending value, and a Matcher accepts, byte by
// byte, exactly the prefixes of documents the schema allows, so a decoder
// can mask every token that would leave the grammar.
//
// Supported keywords: type (one or a list), properties, required,
// additionalProperties (a boolean or a schema), items (one schema), enum,
// const, minItems, maxItems, minLength, maxLength, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (draft 4 booleans or draft 6 numbers),
// $ref to a pointer in the same document ("#", "#/definitions/…",
// "#/$defs/…"), anyOf, oneOf and allOf. Annotations (title, description,
// default, examples, format, $schema, $id, $comment, …) are ignored. Any
// other keyword is an error naming its place in the schema.
//
// The grammar of a Matcher is the subset of JSON a generator needs:
// object members in the order the schema declares them (required ones
// mandatory, optional ones skippable, no undeclared ones when properties
// are declared), numbers without exponents and with at most 12 integer and
// 6 fraction digits, strings of valid UTF-8 without surrogate escapes, and
// between two tokens at most one line break and 12 spaces or tabs. Every
// prefix it accepts can be completed, and Remaining says in how few bytes.
// allOf (beyond a one-schema alias), $ref, anyOf or oneOf beside other
// keywords, and oneOf branches that could both match are supported for
// validation only: NewMatcher reports them.
package jsonschema
