package records

import (
	"context"
	"fmt"
	"text/tabwriter"

	"chancery/internal/errs"
)

// suggestEval prints the assistant's accuracy on held-out history
// (EvaluateSuggestions), one line per unit and field, with the
// majority-class baseline beside it.
func suggestEval(c *cliCommand) func(ctx context.Context, st CommandStorage) error {
	unit := c.fs.Int64("unit", 0, "only this unit's documents (its id); every unit with incoming documents if 0")
	return func(ctx context.Context, st CommandStorage) error {
		if *unit < 0 {
			return errs.Usage(commandUsage, "--unit %d: a unit id is positive", *unit)
		}
		evs, err := EvaluateSuggestions(ctx, st.Service.db, *unit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "UNIT\tTRAIN\tTEST\tFIELD\tTESTED\tACCURACY\tBASELINE")
		for _, ev := range evs {
			for _, f := range ev.Fields {
				fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%d\t%.1f%%\t%.1f%%\n", ev.UnitID, ev.Train, ev.Test, f.Field, f.Tested, 100*f.Accuracy, 100*f.Baseline)
			}
		}
		fmt.Fprintln(tw, "(subject lines are read from the text, not learned; the baseline always suggests the training part's most frequent value)")
		return tw.Flush()
	}
}
