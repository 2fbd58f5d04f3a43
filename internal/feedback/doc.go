// Package feedback is ratings and corrections of answers: what a client
// sends (a rating 1–5 or thumbs up/down, a correction, tags) → a checked
// Feedback, and rated answers → the examples they teach: supervised
// examples (a correction, or an answer rated highly) and preference pairs
// (a correction or the best-rated answer preferred to a poorly rated one).
package feedback
