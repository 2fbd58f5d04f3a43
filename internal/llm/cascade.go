package llm

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Cascade is a Model that answers with a cheap edge model (the local
// engine) first and escalates to a larger cloud model when the edge answer's
// confidence is below Threshold, or when the edge fails.
//
// Streaming: the edge answer is buffered; when it is kept it reaches the
// stream callback as one delta, and when the cascade escalates the cloud
// answer streams as it is generated. The caller never sees text that is
// then taken back.
type Cascade struct {
	Edge, Cloud Model
	// EdgeName and CloudName label the models in traces (default "edge"
	// and "cloud").
	EdgeName, CloudName string
	// Threshold is the confidence below which the cascade escalates
	// (default 0.5 when 0).
	Threshold float64
	// Confidence scores an edge answer in [0, 1]; default
	// TokenConfidence. The edge is always asked for logprobs.
	Confidence func(*Response) float64
}

// TokenConfidence is the geometric-mean probability of the answer's
// tokens, exp(mean logprob), in [0, 1]; 0 when the answer has no logprobs
// (an answer that cannot be judged is escalated).
func TokenConfidence(resp *Response) float64 {
	if resp == nil || len(resp.Logprobs) == 0 {
		return 0
	}
	var sum float64
	for _, lp := range resp.Logprobs {
		sum += lp.Logprob
	}
	return math.Exp(sum / float64(len(resp.Logprobs)))
}

// Chat answers req; see Cascade. The response carries the summed usage
// and cost of both models and the trace of both.
func (c *Cascade) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	start := time.Now()
	edgeName, cloudName := nameOr(c.EdgeName, "edge"), nameOr(c.CloudName, "cloud")
	threshold := c.Threshold
	if threshold == 0 {
		threshold = 0.5
	}
	confidence := c.Confidence
	if confidence == nil {
		confidence = TokenConfidence
	}

	edgeReq := req
	edgeReq.Logprobs = true
	edge, err := c.Edge.Chat(ctx, edgeReq, nil)
	trace := prefixed(edgeName, edge)
	var why string
	switch {
	case ctx.Err() != nil:
		return edge, err
	case err != nil:
		why = fmt.Sprintf("cascade: %s failed (%v): escalated to %s", edgeName, err, cloudName)
	default:
		score := confidence(edge)
		if score >= threshold {
			edge.Trace = append(trace, fmt.Sprintf("cascade: %s confidence %.2f ≥ %.2f: kept", edgeName, score, threshold))
			if !req.Logprobs && req.TopLogprobs == 0 {
				edge.Logprobs = nil
			}
			edge.Latency = time.Since(start)
			return edge, emitWhole(stream, edge)
		}
		why = fmt.Sprintf("cascade: %s confidence %.2f < %.2f: escalated to %s", edgeName, score, threshold, cloudName)
	}
	trace = append(trace, why)

	cloud, err := c.Cloud.Chat(ctx, req, stream)
	if cloud == nil {
		cloud = &Response{Model: cloudName}
	}
	cloud.Trace = append(trace, prefixed(cloudName, cloud)...)
	if edge != nil {
		cloud.Usage = edge.Usage.Add(cloud.Usage)
		cloud.Cost += edge.Cost
	}
	cloud.Latency = time.Since(start)
	return cloud, err
}

func nameOr(name, def string) string {
	if name == "" {
		return def
	}
	return name
}
