package app

import (
	"crypto/rand"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/procedures"
)

// uploadClients and uploadFiles shape BenchmarkUploadMemory's load: 12
// citizens at once, each submitting a dossier with the most the limits
// allow, procedures.MaxDossierBytes (50 MiB) in procedures.MaxDossierBytes
// / procedures.MaxAttachmentBytes files of 10 MiB.
const (
	uploadClients = 12
	uploadFiles   = procedures.MaxDossierBytes / procedures.MaxAttachmentBytes
)

// BenchmarkUploadMemory measures the memory that concurrent large uploads
// cost the whole server: uploadClients citizens each POST a dossier of
// uploadFiles files of procedures.MaxAttachmentBytes (50 MiB in all) to
// /api/v1/dossiers at once, through the app's handler with its sign-in
// (a real bearer token), body limits, CSRF check, the real keyring and
// the data directory's blob storage. The clients make their bodies as
// they send them, so that the process's memory is the server's.
// peak-rss-MiB-over-idle is the process's peak resident memory during a
// round, less its resident memory before it (after a collection and
// returning freed memory to the system); the target is under 200.
// dossiers/s is the rate the round took them at.
func BenchmarkUploadMemory(b *testing.B) {
	a, base := serveDemo(b)
	token := submitter(b, a, base, procedures.ChannelOnline)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: uploadClients}, Timeout: 10 * time.Minute}
	b.Cleanup(client.CloseIdleConnections)
	post := func() error { return postLargeDossier(client, base, token) }
	if err := post(); err != nil { // warm up: first connections, caches, the keyring
		b.Fatal(err)
	}
	var peak, rate float64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		idle := procStatusMiB(b, "VmRSS")
		peakOf := watchPeakRSS(b)
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		var failed atomic.Pointer[error]
		for range uploadClients {
			wg.Go(func() {
				if err := post(); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		if err := failed.Load(); err != nil {
			b.Fatal(*err)
		}
		peak += peakOf() - idle
		rate += uploadClients / elapsed.Seconds()
		b.StartTimer()
	}
	b.ReportMetric(peak/float64(b.N), "peak-rss-MiB-over-idle")
	b.ReportMetric(rate/float64(b.N), "dossiers/s")
}

// watchPeakRSS starts watching the process's resident memory and returns
// the function that stops and reports its peak in MiB. Where the kernel
// lets the process reset its high-water mark (writing 5 to clear_refs),
// the peak is VmHWM, exact; elsewhere it is the highest VmRSS sampled
// every 5 ms.
func watchPeakRSS(tb testing.TB) func() float64 {
	tb.Helper()
	exact := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	stop := make(chan struct{})
	sampled := make(chan float64, 1)
	go func() {
		highest := 0.0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			highest = max(highest, procStatusMiB(tb, "VmRSS"))
			select {
			case <-stop:
				sampled <- highest
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(stop)
		highest := <-sampled
		if exact {
			highest = max(highest, procStatusMiB(tb, "VmHWM"))
		}
		return highest
	}
}

// procStatusMiB reads a field of /proc/self/status given in kB, in MiB.
func procStatusMiB(tb testing.TB, field string) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc here: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	tb.Fatalf("%s not in /proc/self/status", field)
	return 0
}

// postLargeDossier submits a request for consular protection with
// uploadFiles scans of procedures.MaxAttachmentBytes each, writing the
// body as it is sent.
func postLargeDossier(client *http.Client, base, token string) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := writeDossierPart(mw, procedures.ChannelOnline)
		for i := 0; i < uploadFiles && err == nil; i++ {
			err = writeScanPart(mw, fmt.Sprintf("scan-%d.pdf", i), procedures.MaxAttachmentBytes)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return postDossier(client, base, token, mw.FormDataContentType(), pr)
}

// writeScan writes a PDF of size bytes whose stream is random, as a
// scan's compressed image is, 64 KiB at a time.
func writeScan(w io.Writer, size int) error {
	head := []byte("%PDF-1.7\n1 0 obj<</Length 0>>stream\n")
	tail := []byte("\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	if _, err := w.Write(head); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for left := size - len(head) - len(tail); left > 0; left -= len(buf) {
		chunk := buf[:min(left, len(buf))]
		rand.Read(chunk)
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	_, err := w.Write(tail)
	return err
}
