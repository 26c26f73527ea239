# Makes the reference outputs of TestResizeMatchesPIL: a w×h image whose
# pixels follow the formula below, resized to 32×32 by Pillow's BILINEAR
# filter (what torchvision's Resize uses), written as the R, G and B planes,
# row-major, one number a pixel. Run with Pillow 9.4 as:
#   python3 pil_resize.py 64 48 > pil_bilinear_64x48.txt
import sys
from PIL import Image

w, h = int(sys.argv[1]), int(sys.argv[2])
img = Image.new("RGB", (w, h))
px = img.load()
for y in range(h):
    for x in range(w):
        px[x, y] = ((x * 7 + y * 3) % 256, (x * x + y * 5) % 256, ((x ^ y) * 4) % 256)
out = img.resize((32, 32), Image.BILINEAR)
r, g, b = out.split()
print(" ".join(str(v) for v in list(r.getdata()) + list(g.getdata()) + list(b.getdata())))
