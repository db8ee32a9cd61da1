package authz

import "testing"

// TestDecideDoesNotAllocate pins what BenchmarkDecide reports: Decide
// runs on every request and every listed item, so it must not allocate
// on any of its paths. A change that makes one path allocate (a reason
// built with fmt, a slice of grants copied, a closure that escapes)
// fails here, in CI, rather than in a benchmark nobody runs. Each row
// also checks the decision, so the table really walks the path it names.
func TestDecideDoesNotAllocate(t *testing.T) {
	shared := []int64{cipher, 40, 50, paris}
	tests := []struct {
		name string
		s    Subject
		a    Action
		r    Resource
		want Decision
	}{
		{"staff allowed: BenchmarkDecide's shared classified item",
			Subject{Kind: Staff, ID: 1, Unit: paris, Roles: RolesOf(Clerk, Officer), Clearance: Secret, Session: Confidential},
			Update, Resource{Kind: KindDocument, Unit: consular, Shared: shared, Level: Confidential}, Allowed},
		{"staff allowed: own unit, directory read", staff(paris, Unclassified), Read, Resource{Kind: KindUnit}, Allowed},
		{"staff allowed: own account", staff(consular, Unclassified), Read, Resource{Kind: KindStaff, Owner: 100}, Allowed},
		{"staff concealed: no read up", staff(consular, Unclassified, Clerk), Read, Resource{Kind: KindDocument, Unit: consular, Level: Secret}, Concealed},
		{"staff concealed: need-to-know past a long share list", staff(cipher+1, TopSecret, Officer), Read,
			Resource{Kind: KindDocument, Unit: consular, Shared: shared}, Concealed},
		{"staff denied: no role", staff(consular, Unclassified, Clerk), Approve, Resource{Kind: KindDocument, Unit: consular}, Denied},
		{"staff concealed: no role reads the item", staff(consular, Unclassified, Auditor), Update, Resource{Kind: KindDocument, Unit: consular}, Concealed},
		{"staff denied: no write down",
			Subject{Kind: Staff, ID: 1, Unit: consular, Roles: RolesOf(Officer), Clearance: Secret, Session: Secret},
			Update, Resource{Kind: KindDocument, Unit: consular, Level: Confidential}, Denied},
		{"citizen allowed: own dossier", Subject{Kind: Citizen, ID: 7}, Read, Resource{Kind: KindDossier, Owner: 7, Unit: consular}, Allowed},
		{"citizen concealed: another's dossier", Subject{Kind: Citizen, ID: 7}, Read, Resource{Kind: KindDossier, Owner: 8, Unit: consular}, Concealed},
		{"system allowed", Subject{Kind: System}, Update, Resource{Kind: KindDocument, Unit: consular, Level: TopSecret}, Allowed},
		{"anonymous denied", Subject{}, Read, Resource{Kind: KindUnit}, Denied},
		{"unknown principal denied", Subject{Kind: 99}, Read, Resource{Kind: KindUnit}, Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decision
			var why Reason
			allocs := testing.AllocsPerRun(1000, func() {
				d, why = Decide(tt.s, tt.a, tt.r)
			})
			if d != tt.want {
				t.Fatalf("Decide = %s (%s), want %s", d, why, tt.want)
			}
			if allocs != 0 {
				t.Errorf("Decide allocates %.1f times per call (%s, %s); it must not allocate", allocs, d, why)
			}
		})
	}
}
