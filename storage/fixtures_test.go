package storage_test

import (
	"context"

	"github.com/edufund/edufund/storage/storagetest"
)

var ctx = context.Background()

// The fixtures of storagetest under the names storage's tests use.
var (
	child       = storagetest.Child
	adult       = storagetest.Adult
	schoolYear  = storagetest.SchoolYear
	run         = storagetest.InTx
	try         = storagetest.TryTx
	saveOffer   = storagetest.SaveOffer
	contractFor = storagetest.ContractFor
)
