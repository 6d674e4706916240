package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// An OpenAIClient is an AIAgent on an OpenAI-compatible chat-completions
// endpoint (OpenAI's, or a local model server's). Each turn sends the
// step's instructions and the conversation, and asks for a JSON object:
// {"reply": "...", "outcome": "" | "success" | "human" | "unable",
// "values": {"Email": "..."}}.
type OpenAIClient struct {
	BaseURL string // the API's, e.g. https://api.openai.com/v1
	Key     string // the bearer key, from the environment variable the config names
	Model   string
	// HTTP makes the calls; nil is a client that waits 30 s at most.
	HTTP *http.Client
}

// aiProtocol tells the model how to answer, after the step's instructions.
const aiProtocol = `You are chatting with a customer on behalf of a business, following the instructions above.
Answer with one JSON object and nothing else:
{"reply": the message to send the customer now, or "" for none,
 "outcome": "" while the conversation goes on; "success" once the instructions are done; "human" when the customer asks for a person; "unable" when you cannot help,
 "values": the values collected, by name%s}`

// Turn implements AIAgent.
func (c *OpenAIClient) Turn(ctx context.Context, s AISession) (AITurn, error) {
	names := ""
	if len(s.Save) > 0 {
		names = ": " + strings.Join(s.Save, ", ")
	}
	msgs := []map[string]string{{"role": "system", "content": s.Instructions + "\n\n" + fmt.Sprintf(aiProtocol, names)}}
	for _, m := range s.History {
		role := "assistant"
		if m.FromContact {
			role = "user"
		}
		msgs = append(msgs, map[string]string{"role": role, "content": m.Text})
	}
	body, err := json.Marshal(map[string]any{"model": c.Model, "messages": msgs,
		"response_format": map[string]string{"type": "json_object"}})
	if err != nil {
		return AITurn{}, err
	}
	b, err := serviceCall(ctx, c.HTTP, "AI endpoint", http.MethodPost, strings.TrimRight(c.BaseURL, "/")+"/chat/completions", c.Key, body)
	if err != nil {
		return AITurn{}, err
	}
	var answer struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &answer); err != nil || len(answer.Choices) == 0 {
		return AITurn{}, finalError{fmt.Errorf("AI endpoint: not a chat completion: %s", apiMessage(b))}
	}
	var out struct {
		Reply   string         `json:"reply"`
		Outcome string         `json:"outcome"`
		Values  map[string]any `json:"values"`
	}
	if err := json.Unmarshal([]byte(answer.Choices[0].Message.Content), &out); err != nil {
		return AITurn{}, finalError{fmt.Errorf("AI endpoint: the model did not answer with the JSON asked for: %v", err)}
	}
	turn := AITurn{Reply: out.Reply, Outcome: out.Outcome}
	for _, name := range s.Save { // only the values the step saves
		if v, ok := out.Values[name]; ok && v != nil {
			if turn.Values == nil {
				turn.Values = map[string]string{}
			}
			if str, isText := v.(string); isText {
				turn.Values[name] = str
			} else {
				turn.Values[name] = fmt.Sprint(v)
			}
		}
	}
	return turn, nil
}
