package server

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// TestOpenAIGoSDK drives the gateway with the official OpenAI Go SDK, as
// a user's program would: models, chat (whole and streamed), completions,
// embeddings and errors, with an API key.
func TestOpenAIGoSDK(t *testing.T) {
	ctx := context.Background()
	m := &gwEcho{}
	s, ts := gwServer(t, gwEchoConfig(m))
	key, _, err := s.cfg.Store.CreateKey(ctx, "sdk", "user")
	if err != nil {
		t.Fatal(err)
	}
	client := sdk.NewClient(option.WithBaseURL(ts.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))

	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if !reflect.DeepEqual(ids, []string{"tiny", "tiny:sql", "fake-embed"}) {
			t.Fatalf("models %q", ids)
		}
		if got, err := client.Models.Get(ctx, "tiny:sql"); err != nil || got.ID != "tiny:sql" || got.OwnedBy != "flywheel" {
			t.Fatalf("get %+v %v", got, err)
		}
	})

	t.Run("chat", func(t *testing.T) {
		c, err := client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{
			Model:       "tiny:sql",
			Messages:    []sdk.ChatCompletionMessageParamUnion{sdk.DeveloperMessage("be exact"), sdk.UserMessage("select name from t; drop")},
			Stop:        sdk.ChatCompletionNewParamsStopUnion{OfStringArray: []string{"; drop"}},
			Seed:        sdk.Int(42),
			Temperature: sdk.Float(0.7),
			TopP:        sdk.Float(0.95),
			N:           sdk.Int(2),
			Logprobs:    sdk.Bool(true),
			TopLogprobs: sdk.Int(2),
			MaxTokens:   sdk.Int(10),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Choices) != 2 || c.Choices[1].Message.Content != "select name from t" || c.Choices[0].FinishReason != "stop" || c.Model != "tiny:sql" {
			t.Fatalf("%+v", c)
		}
		lp := c.Choices[0].Logprobs.Content
		if len(lp) != 4 || lp[1].Token != " name" || lp[1].Logprob != -1 || len(lp[1].TopLogprobs) != 2 || lp[1].TopLogprobs[1].Token != " alt" {
			t.Fatalf("logprobs %+v", lp)
		}
		if c.Usage.PromptTokens != 7 || c.Usage.CompletionTokens != 8 || c.Usage.TotalTokens != 15 {
			t.Fatalf("usage %+v", c.Usage)
		}
		reqs := m.requests()
		last := reqs[len(reqs)-1]
		if last.Seed != 43 || last.Temperature != 0.7 || last.TopP != 0.95 || last.MaxTokens != 10 || last.Key != "sdk" || last.Messages[0].Role != "system" {
			t.Fatalf("the model got %+v", last)
		}
	})

	t.Run("chat json_schema", func(t *testing.T) {
		schema := map[string]any{"type": "object", "properties": map[string]any{"echo": map[string]any{"type": "string"}}}
		c, err := client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{
			Model:    "tiny",
			Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("hi")},
			ResponseFormat: sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "echo", Schema: schema}}},
		})
		if err != nil || c.Choices[0].Message.Content != `{"echo": "hi"}` {
			t.Fatalf("%+v %v", c, err)
		}
		reqs := m.requests()
		if got := string(reqs[len(reqs)-1].JSONSchema); got != `{"properties":{"echo":{"type":"string"}},"type":"object"}` {
			t.Fatalf("schema %s", got)
		}
	})

	t.Run("chat stream", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, sdk.ChatCompletionNewParams{
			Model:         "tiny",
			Messages:      []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("the quick brown fox")},
			StreamOptions: sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)},
		})
		var acc sdk.ChatCompletionAccumulator
		var deltas []string
		for stream.Next() {
			chunk := stream.Current()
			acc.AddChunk(chunk)
			if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
				deltas = append(deltas, chunk.Choices[0].Delta.Content)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(deltas, []string{"the", " quick", " brown", " fox"}) {
			t.Fatalf("deltas %q", deltas)
		}
		if acc.Choices[0].Message.Content != "the quick brown fox" || acc.Choices[0].FinishReason != "stop" || acc.Usage.TotalTokens != 8 {
			t.Fatalf("accumulated %+v", acc.ChatCompletion)
		}
	})

	t.Run("completions", func(t *testing.T) {
		c, err := client.Completions.New(ctx, sdk.CompletionNewParams{
			Model:     "tiny",
			Prompt:    sdk.CompletionNewParamsPromptUnion{OfString: sdk.String("once upon a time there")},
			MaxTokens: sdk.Int(3),
		})
		if err != nil || c.Choices[0].Text != "once upon a" || c.Choices[0].FinishReason != "length" || c.Usage.CompletionTokens != 3 {
			t.Fatalf("%+v %v", c, err)
		}
		stream := client.Completions.NewStreaming(ctx, sdk.CompletionNewParams{
			Model:  "tiny",
			Prompt: sdk.CompletionNewParamsPromptUnion{OfArrayOfStrings: []string{"a b", "c d"}},
		})
		texts := map[int64]string{}
		for stream.Next() {
			for _, ch := range stream.Current().Choices {
				texts[ch.Index] += ch.Text
			}
		}
		if err := stream.Err(); err != nil || !reflect.DeepEqual(texts, map[int64]string{0: "a b", 1: "c d"}) {
			t.Fatalf("%v %v", texts, err)
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		for _, format := range []sdk.EmbeddingNewParamsEncodingFormat{sdk.EmbeddingNewParamsEncodingFormatFloat, sdk.EmbeddingNewParamsEncodingFormatBase64} {
			e, err := client.Embeddings.New(ctx, sdk.EmbeddingNewParams{
				Model:          "fake-embed",
				Input:          sdk.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"banana", "kiwi"}},
				EncodingFormat: format,
			})
			if err != nil || len(e.Data) != 2 || !reflect.DeepEqual(e.Data[0].Embedding, []float64{6, 3, 1}) || !reflect.DeepEqual(e.Data[1].Embedding, []float64{4, 0, 1}) || e.Data[1].Index != 1 {
				t.Fatalf("%s: %+v %v", format, e, err)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{Model: "gpt-4o", Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("x")}})
		var apiErr *sdk.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Param != "model" || apiErr.Code != "model_not_found" || !strings.Contains(apiErr.Message, "tiny, tiny:sql") {
			t.Fatalf("unknown model: %v", err)
		}
		_, err = client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{Model: "tiny", Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("x")}, Temperature: sdk.Float(9)})
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "temperature" || apiErr.Type != "invalid_request_error" {
			t.Fatalf("bad temperature: %v", err)
		}
		bad := sdk.NewClient(option.WithBaseURL(ts.URL+"/v1/"), option.WithAPIKey("fw_wrong"), option.WithMaxRetries(0))
		_, err = bad.Models.List(ctx)
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || !strings.Contains(apiErr.Message, "invalid API key") {
			t.Fatalf("wrong key: %v", err)
		}
	})

	t.Run("stream error", func(t *testing.T) {
		m.failAfter = 1
		defer func() { m.failAfter = 0 }()
		stream := client.Chat.Completions.NewStreaming(ctx, sdk.ChatCompletionNewParams{Model: "tiny", Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("a b c")}})
		n := 0
		for stream.Next() {
			n++
		}
		if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "broke down after 1 words") || n != 2 {
			t.Fatalf("%d chunks, error %v", n, err)
		}
	})
}
