package aggregator

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkResponses measures the dashboard's own cost of one read: the
// public handler, the client and the HTTP hop to a replica that answers at
// once, without any sync behind it. Compare with the same request sent
// straight to a real aggregator to see what the dashboard adds.
func BenchmarkResponses(b *testing.B) {
	c, register := newTestClient(b, Config{})
	fake := newFake(b, "fake")
	register("fake", fake.URL)
	waitReplicas(b, c, 1)
	srv := newDashboard(b, c)
	client := &http.Client{Transport: NewTransport()}
	target := srv.URL + "/api/v1/responses?device=iOS&location=Germany&limit=50"
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(target)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	client.CloseIdleConnections()
}
