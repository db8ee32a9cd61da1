package operations

import (
	"testing"

	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
