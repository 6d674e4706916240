package interpreter

import "encoding/json"

// An Input is what the outside world answers a waiting run with. A run
// accepts only the inputs its wait is for; any other is ignored.
type Input interface{ input() }

// Message is a message from the contact.
type Message struct {
	Text string
	// Location is set when the channel sent a location rather than text.
	Location *Location
}

// A Location is a point on the map.
type Location struct {
	Lat, Long float64
}

// Timeout says that the timer started with Seq has fired.
type Timeout struct {
	Seq uint32
}

// HTTPResponse answers an HTTPRequest; HTTPRequest.Answer makes it from what
// the server sent. Err says why the call failed: with Status 0, no response
// came (a connection error, the request's timeout); with a status, the
// response could not be used (a body over the cap, not JSON).
type HTTPResponse struct {
	Seq       uint32
	Status    int
	Redirects []Redirect // the redirects followed to get the response, in order
	Body      []byte
	Err       string
}

// A Redirect is one redirect an HTTP call followed: its status, and where
// it led.
type Redirect struct {
	Status int
	URL    string
}

// AssignResult says the conversation was assigned, answering an Assign.
type AssignResult struct {
	Seq  uint32
	User Agent
}

// Delivery answers a send or a sheet row that has an on failure branch, or
// reports a question that could not be delivered.
type Delivery struct {
	Seq uint32
	OK  bool
	Err string
}

// AIOutcome answers an AIReply: success, human (the contact asked for a
// person), unable (AI could not answer) or failure; Vars are the values it
// collected.
type AIOutcome struct {
	Seq     uint32
	Outcome string
	Vars    map[string]string
}

func (Message) input()      {}
func (Timeout) input()      {}
func (HTTPResponse) input() {}
func (AssignResult) input() {}
func (Delivery) input()     {}
func (AIOutcome) input()    {}

// jsonBody decodes a response body, or returns nil.
func jsonBody(b []byte) any {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return v
}

// An Agent is who a conversation is assigned to, as assignee.* reads it: a
// user of the workspace, or an AI agent (which has only a name).
type Agent struct {
	ID, Name, FirstName, LastName, Email, Phone string
	Status                                      string // online, away, offline
	Team                                        string // the team of the assignment, if any
}

// Values is the agent as the assignee namespace: the fields it has, so that
// a missing one reads nil.
func (a Agent) Values() map[string]any {
	m := make(map[string]any, 8)
	for k, v := range map[string]string{"id": a.ID, "name": a.Name, "firstname": a.FirstName, "lastname": a.LastName,
		"email": a.Email, "phone": a.Phone, "status": a.Status, "team": a.Team} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}
