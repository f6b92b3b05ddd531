package search

// HoldsIndex reports whether the bleve index is open now (not closed for
// being idle), for tests.
func (ix *Index) HoldsIndex() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.idx != nil
}
