package pagewire

import (
	"reflect"
	"testing"

	"cifarlab/viz"
)

func TestRoundTrip(t *testing.T) {
	in := viz.Intent{Kind: viz.Load, Path: "w.safetensors", Data: []byte{1, 2, 3}, Runs: []int{0, 4}, Cell: [2]int{3, 5}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	var gotIn viz.Intent
	if err := Decode(b, &gotIn); err != nil || !reflect.DeepEqual(gotIn, in) {
		t.Errorf("intent: %+v, %v; want %+v", gotIn, err, in)
	}
	st := State{Status: `{"step":3}`, Line: "cpu · lenet5", Running: true, Handled: 7, OfferServer: "the server offers …"}
	if b, err = Encode(st); err != nil {
		t.Fatal(err)
	}
	var gotSt State
	if err := Decode(b, &gotSt); err != nil || gotSt != st {
		t.Errorf("state: %+v, %v; want %+v", gotSt, err, st)
	}
	snap := viz.Synthetic("lenet5", 1, 3)
	if b, err = Encode(snap); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSnapshot(b)
	if err != nil || !reflect.DeepEqual(got, snap) {
		t.Errorf("snapshot: %v; it changed on the way", err)
	}
	if _, err := DecodeSnapshot(b[:len(b)/2]); err == nil {
		t.Errorf("half a snapshot: no error")
	}
}

func TestView(t *testing.T) {
	for q, want := range map[string][2]bool{
		"":                               {false, false},
		"?view=grads":                    {true, false},
		"view=eval&model=resnet18":       {false, true},
		"view=maps":                      {false, false},
		"?experiment=shortcuts":          {true, false},
		"experiment=shortcuts&view=maps": {false, false},
		"experiment=shortcuts&view=eval": {false, true},
		"view=weights":                   {false, false},
	} {
		if g, e := View(q); [2]bool{g, e} != want {
			t.Errorf("%q: grads %v eval %v, want %v", q, g, e, want)
		}
	}
}
