package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowd/flowd/interpreter"
)

// A SheetsClient appends a sheet step's row with the Google Sheets API v4,
// as respond.io's Add Google Sheets Row does: it reads the tab's header
// row, puts each of the step's columns under the header of its name, and
// appends the row with values.append. A column the header lacks fails the
// step (nothing is appended): a row half filled would be read as whole.
type SheetsClient struct {
	// BaseURL is the API's; "" is https://sheets.googleapis.com.
	BaseURL string
	// Token is the OAuth bearer token the calls carry (a service
	// account's), from the environment variable the config names.
	Token string
	// HTTP makes the calls; nil is a client that waits 30 s at most.
	HTTP *http.Client
}

// Append implements SheetAppender.
func (c *SheetsClient) Append(ctx context.Context, row *interpreter.SheetRow) error {
	header, err := c.header(ctx, row)
	if err != nil {
		return err
	}
	values := make([]string, len(header))
	for _, col := range row.Columns {
		i := indexOf(header, col[0])
		if i < 0 {
			return fmt.Errorf("sheet %q has no column %q (its header row: %s)", row.Spreadsheet, col[0], strings.Join(header, ", "))
		}
		values[i] = col[1]
	}
	body, err := json.Marshal(map[string]any{"values": [][]string{values}})
	if err != nil {
		return err
	}
	q := url.Values{"valueInputOption": {"USER_ENTERED"}, "insertDataOption": {"INSERT_ROWS"}}
	_, err = c.call(ctx, http.MethodPost, c.rangeURL(row, "A1")+":append?"+q.Encode(), body)
	return err
}

// header reads the tab's first row.
func (c *SheetsClient) header(ctx context.Context, row *interpreter.SheetRow) ([]string, error) {
	b, err := c.call(ctx, http.MethodGet, c.rangeURL(row, "1:1"), nil)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Values [][]string `json:"values"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		return nil, fmt.Errorf("sheet %q: the header row's answer is not what the API gives: %v", row.Spreadsheet, err)
	}
	if len(answer.Values) == 0 || len(answer.Values[0]) == 0 {
		return nil, fmt.Errorf("sheet %q has no header row: its first row names the columns", row.Spreadsheet)
	}
	return answer.Values[0], nil
}

// rangeURL is the values URL of a range of the row's tab (its first tab
// when the step names none).
func (c *SheetsClient) rangeURL(row *interpreter.SheetRow, cells string) string {
	base := c.BaseURL
	if base == "" {
		base = "https://sheets.googleapis.com"
	}
	a1 := cells
	if row.Tab != "" {
		a1 = "'" + strings.ReplaceAll(row.Tab, "'", "''") + "'!" + cells
	}
	return strings.TrimRight(base, "/") + "/v4/spreadsheets/" + url.PathEscape(row.Spreadsheet) + "/values/" + url.PathEscape(a1)
}

// call makes one API call and returns its answer.
func (c *SheetsClient) call(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	return serviceCall(ctx, c.HTTP, "sheets API", method, u, c.Token, body)
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if strings.EqualFold(strings.TrimSpace(y), strings.TrimSpace(x)) {
			return i
		}
	}
	return -1
}
