package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// /openapi.json lists every route served, and only those: the document,
// as served, is valid OpenAPI 3; each of its operations is a route of the
// server; and a request to each route reaches a handler of its own, not
// the mux's "no such endpoint" or "method not allowed".
func TestOpenAPIListsEveryRoute(t *testing.T) {
	f := startAPI(t, nil)
	resp, err := http.Get(f.srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3: %v", err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	var served []string
	for _, r := range f.svc.Server.Routes() {
		served = append(served, strings.TrimSuffix(r, "{$}"))
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented:\n%s\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{identifier}", "id:999999", "{run}", "1", "{user}", "nobody", "{id}", "nothing")
	for _, route := range served {
		method, path, _ := strings.Cut(route, " ")
		u, _ := url.Parse(f.srv.URL + fill.Replace(path))
		req, _ := http.NewRequest(method, u.String(), strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+apiToken)
		if _, _, err := router.FindRoute(req); err != nil {
			t.Errorf("%s: the document has no route for %s %s: %v", route, method, u.Path, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode == http.StatusMethodNotAllowed || strings.HasPrefix(out.Message, "no such endpoint") || resp.StatusCode == 404 && path == "/" {
			t.Errorf("%s: not served: %d %s", route, resp.StatusCode, out.Message)
		}
	}
}
