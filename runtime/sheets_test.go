package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// fakeSheets is the Google Sheets API on 127.0.0.1: one spreadsheet, whose
// tab "Leads" has a header row, and the rows appended to it.
type fakeSheets struct {
	header   []string
	appended [][]string
	calls    []string
}

func (f *fakeSheets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls = append(f.calls, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	if r.Header.Get("Authorization") != "Bearer s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error": {"code": 401, "message": "Request had invalid authentication credentials."}}`)
		return
	}
	switch {
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v4/spreadsheets/doc-1/values/'Leads'!1:1"):
		json.NewEncoder(w).Encode(map[string]any{"range": "Leads!1:1", "values": [][]string{f.header}})
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, ":append"):
		var body struct {
			Values [][]string `json:"values"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.appended = append(f.appended, body.Values...)
		io.WriteString(w, `{"updates": {"updatedRows": 1}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error": {"code": 404, "message": "Requested entity was not found."}}`)
	}
}

// A row goes under the header of each column's name; a column the sheet
// lacks, a wrong token or an unknown spreadsheet fail the step, finally.
func TestSheetsAppend(t *testing.T) {
	fake := &fakeSheets{header: []string{"Date", "Name", "Email", "Interest"}}
	srv := server(t, fake.ServeHTTP)
	c := &runtime.SheetsClient{BaseURL: srv.URL, Token: "s3cret"}
	row := &interpreter.SheetRow{Spreadsheet: "doc-1", Tab: "Leads", Columns: [][2]string{{"Name", "Ana"}, {"Interest", "Sofa"}, {"email", "ana@example.com"}}}
	if err := c.Append(context.Background(), row); err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"", "Ana", "ana@example.com", "Sofa"}}; len(fake.appended) != 1 || strings.Join(fake.appended[0], "|") != strings.Join(want[0], "|") {
		t.Errorf("appended %q, want %q", fake.appended, want)
	}
	if last := fake.calls[len(fake.calls)-1]; !strings.Contains(last, "valueInputOption=USER_ENTERED") {
		t.Errorf("append call %s", last)
	}

	row.Columns = append(row.Columns, [2]string{"Phone", "+1"})
	err := c.Append(context.Background(), row)
	if err == nil || !strings.Contains(err.Error(), `sheet "doc-1" has no column "Phone" (its header row: Date, Name, Email, Interest)`) {
		t.Errorf("a column the sheet lacks: %v", err)
	}
	bad := &runtime.SheetsClient{BaseURL: srv.URL, Token: "wrong"}
	err = bad.Append(context.Background(), &interpreter.SheetRow{Spreadsheet: "doc-1", Tab: "Leads", Columns: [][2]string{{"Name", "x"}}})
	var se *runtime.StatusError
	if !errors.As(err, &se) || !se.Final() || !strings.Contains(err.Error(), "sheets API answered 401: Request had invalid authentication credentials.") {
		t.Errorf("a wrong token: %v", err)
	}
	if len(fake.appended) != 1 {
		t.Errorf("rows appended after failures: %q", fake.appended)
	}
}
