package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"cifarlab/cifar"
	"cifarlab/net"
)

// norm is the reference normalisation.
var norm = net.Normalize{Mean: cifar.Mean[:], Std: cifar.Std[:]}

// loadDataset opens -data, or without it the official archive from the
// cache, downloading it once.
func loadDataset(ctx context.Context, path string, stderr io.Writer) (*cifar.Dataset, error) {
	if path == "" {
		dir, err := cifar.CacheDir()
		if err != nil {
			return nil, err
		}
		if path, err = cifar.Fetch(ctx, dir, stderr); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(stderr, "reading %s\n", path)
	return cifar.Open(path)
}

// trainingSplits picks the training split (Train, or a single .bin file)
// and the held-out test split (Test, or the split of -test).
func trainingSplits(ds *cifar.Dataset, testPath string, stderr io.Writer) (train, test *cifar.Split, err error) {
	train = ds.Train
	if train == nil {
		train = ds.Only
	}
	if train == nil {
		return nil, nil, fmt.Errorf("%s has no training images (no data_batch_N.bin or train/ folder)", ds.Source)
	}
	test = ds.Test
	if testPath != "" {
		tds, err := cifar.Open(testPath)
		if err != nil {
			return nil, nil, err
		}
		if test, err = evalSplit(tds); err != nil {
			return nil, nil, err
		}
		if !slices.Equal(tds.Classes, ds.Classes) {
			return nil, nil, fmt.Errorf("-test %s has classes %v, but the training data has %v", testPath, tds.Classes, ds.Classes)
		}
	}
	if test == nil {
		fmt.Fprintf(stderr, "note: %s has no test split, so no test accuracy is reported; pass -test PATH for one\n", ds.Source)
	}
	return train, test, nil
}

// openSplits opens -data (see loadDataset) and picks its training and
// test splits (see trainingSplits).
func openSplits(ctx context.Context, data, testPath string, stderr io.Writer) (ds *cifar.Dataset, train, test *cifar.Split, err error) {
	if ds, err = loadDataset(ctx, data, stderr); err != nil {
		return nil, nil, nil, err
	}
	train, test, err = trainingSplits(ds, testPath, stderr)
	return ds, train, test, err
}

// evalSplit is the split eval and predict use: Test, or a single .bin file.
func evalSplit(ds *cifar.Dataset) (*cifar.Split, error) {
	if ds.Test != nil {
		return ds.Test, nil
	}
	if ds.Only != nil {
		return ds.Only, nil
	}
	return nil, fmt.Errorf("%s has no test images (no test_batch.bin or test/ folder)", ds.Source)
}

// upload copies a split to the backend.
func upload(b net.Backend, s *cifar.Split) (net.Records, error) {
	r, err := b.UploadRecords(s.Records, net.InputShape)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", s.Source, err)
	}
	return r, nil
}
