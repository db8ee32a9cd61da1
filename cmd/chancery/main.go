// Command chancery runs a Chancery node and its administrative commands.
// Everything but the exit code lives in internal/app.
package main

import (
	"os"

	"chancery/internal/app"
)

func main() { os.Exit(app.Run(os.Args[1:])) }
