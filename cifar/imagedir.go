package cifar

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// readImageDir reads image folders root/train/<class>/* and
// root/test/<class>/*, decoding on every core.
func readImageDir(root string) (*Dataset, error) {
	set := newImageSet(root)
	defer set.wait()
	for s, name := range splitNames {
		dir := filepath.Join(root, name)
		fi, err := os.Stat(dir)
		if errors.Is(err, os.ErrNotExist) || (err == nil && !fi.IsDir()) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		set.addSplit(s, dir)
		if err := listSplitDir(set, s, dir); err != nil {
			return nil, err
		}
	}
	return set.finish()
}

// listSplitDir queues every image below the class folders of dir.
func listSplitDir(set *imageSet, s int, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	for _, e := range entries {
		if isHidden(e.Name()) || !isDirEntry(dir, e) {
			continue // files beside the class folders belong to no class
		}
		set.addClass(s, e.Name())
		if err := listClassDir(set, s, e.Name(), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// listClassDir queues every visible file below a class folder (subfolders
// included, like torchvision's ImageFolder), named by its path below it.
func listClassDir(set *imageSet, s int, class, classDir string) error {
	root, err := filepath.EvalSymlinks(classDir)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	walk := func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cifar: %w", err)
		}
		if path == root {
			return nil
		}
		if isHidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return fmt.Errorf("cifar: %w", err)
		}
		shown := filepath.Join(classDir, rel)
		return set.addImage(imageJob{
			file:  imageFile{split: s, class: class, name: filepath.ToSlash(rel)},
			where: shown,
			load:  func() ([]byte, error) { return readFile(shown, MaxImageFileBytes) },
		})
	}
	return filepath.WalkDir(root, walk)
}
