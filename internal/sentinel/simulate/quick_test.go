package simulate

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"chancery/internal/sentinel/detect"
)

func TestQuickEval(t *testing.T) {
	if os.Getenv("SIMQ") == "" {
		t.Skip()
	}
	seed, _ := strconv.Atoi(os.Getenv("SIMQ"))
	f, _ := os.Create("/tmp/detect-fp.txt")
	defer f.Close()
	r, err := Evaluate(Config{Seed: uint64(seed), Staff: 1000, Days: 90}, detect.Config{}, func(a detect.Alert, at time.Time, tp bool) {
		b, _ := json.Marshal(a)
		fmt.Fprintf(f, "%v %s %s\n", tp, at.Format(time.RFC3339), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Print(os.Stdout)
}
