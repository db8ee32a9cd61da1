package identity_test

import (
	"testing"

	"chancery/internal/identity"
)

func TestFoldStripsVietnameseDiacritics(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Bộ Ngoại giao", "bo ngoai giao"},
		{"ĐẠI SỨ QUÁN", "dai su quan"},
		{"Cục Cơ yếu - Công nghệ thông tin", "cuc co yeu - cong nghe thong tin"},
		{"Trương Thị Ưng", "truong thi ung"},
		{"Brasília", "brasilia"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := identity.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
