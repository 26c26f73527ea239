package cifar

import "testing"

func TestBalancedTakesEveryClass(t *testing.T) {
	// Records ordered by class, as an image folder gives them: 30 of
	// class 0, then 5 of class 1, then 30 of class 2.
	var recs []byte
	for _, c := range []struct{ label, n int }{{0, 30}, {1, 5}, {2, 30}} {
		for i := 0; i < c.n; i++ {
			r := make([]byte, RecordSize)
			r[0], r[1] = byte(c.label), byte(i)
			recs = append(recs, r...)
		}
	}
	s := &Split{Name: "train", Records: recs}
	b := s.Balanced(20, 3)
	if got := b.LabelCounts(3); got[0] != 8 || got[1] != 5 || got[2] != 7 {
		t.Errorf("Balanced(20, 3) has %v of each class, want [8 5 7] (class 1 has only 5)", got)
	}
	if b.Pixels(0)[0] != 0 || b.Pixels(8)[0] != 0 || b.Label(8) != 1 || b.Label(13) != 2 {
		t.Errorf("Balanced does not keep the first records of each class in order")
	}
	if all := s.Balanced(-1, 3); all.Len() != s.Len() {
		t.Errorf("Balanced(-1) has %d records, want all %d", all.Len(), s.Len())
	}
}
