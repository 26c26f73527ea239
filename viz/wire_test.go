package viz

import (
	"bytes"
	"encoding/gob"
	"math"
	"reflect"
	"testing"
)

func TestMapBinary(t *testing.T) {
	for _, m := range []Map{
		{},
		{Title: "conv1 · 3", C: 1, H: 2, W: 3, Data: []float32{0, -1.5, float32(math.Inf(1)), 1e-30, 7, 8}},
		{Title: "input", C: 3, H: 1, W: 1, Data: []float32{0.25, 0.5, 1}},
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Map
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%q: %v", m.Title, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip: %+v, want %+v", got, m)
		}
		for cut := 0; cut < len(b); cut++ {
			if err := new(Map).UnmarshalBinary(b[:cut]); err == nil {
				t.Errorf("%q cut to %d of %d bytes: no error", m.Title, cut, len(b))
			}
		}
	}
	nan := Map{C: 1, H: 1, W: 1, Data: []float32{float32(math.NaN())}}
	b, _ := nan.MarshalBinary()
	var got Map
	if err := got.UnmarshalBinary(b); err != nil || !math.IsNaN(float64(got.Data[0])) {
		t.Errorf("NaN: %v, %v", got.Data, err)
	}
}

// TestSnapshotGob: a snapshot goes through gob whole, its maps included.
func TestSnapshotGob(t *testing.T) {
	snap := Synthetic("resnet18", 1, 5)
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(snap); err != nil {
		t.Fatal(err)
	}
	var got Snapshot
	if err := gob.NewDecoder(&buf).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, snap) {
		t.Errorf("the snapshot changed on the way through gob")
	}
}
