package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// The PNG of a timeline is painted on the server from the same drawing
// as the SVG (layoutTimeline), with golang.org/x/image: its vector
// rasteriser fills the markers' polygons and its OpenType reader sets the
// text in the Go fonts, which the module embeds (no font from the system
// and none from elsewhere). The downloaded SVG embeds the same fonts, so
// the two look alike anywhere. A pixel of the PNG is a CSS pixel of the
// drawing.

// goFonts are the Go fonts, regular and bold, parsed once.
var goFonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	var out [2]*opentype.Font
	var err error
	if out[0], err = opentype.Parse(goregular.TTF); err != nil {
		return out, fmt.Errorf("the Go Regular font: %w", err)
	}
	if out[1], err = opentype.Parse(gobold.TTF); err != nil {
		return out, fmt.Errorf("the Go Bold font: %w", err)
	}
	return out, nil
})

// faces are the type sizes a painting uses. A font.Face is not safe for
// concurrent use: each painting makes its own.
type faces struct{ text, bold, heading font.Face }

func newFaces() (faces, error) {
	var f faces
	fonts, err := goFonts()
	if err != nil {
		return f, err
	}
	regular, bold := fonts[0], fonts[1]
	if f.text, err = opentype.NewFace(regular, &opentype.FaceOptions{Size: 12, DPI: 72, Hinting: font.HintingFull}); err != nil {
		return f, fmt.Errorf("font face: %w", err)
	}
	if f.bold, err = opentype.NewFace(bold, &opentype.FaceOptions{Size: 12, DPI: 72, Hinting: font.HintingFull}); err != nil {
		return f, fmt.Errorf("font face: %w", err)
	}
	if f.heading, err = opentype.NewFace(bold, &opentype.FaceOptions{Size: 13, DPI: 72, Hinting: font.HintingFull}); err != nil {
		return f, fmt.Errorf("font face: %w", err)
	}
	return f, nil
}

// svgFontStyle is svgStyle with the Go fonts embedded (@font-face with
// data: addresses), made once: the downloaded SVG needs nothing outside
// it to look as the PNG does.
var svgFontStyle = sync.OnceValue(func() string {
	face := func(weight string, ttf []byte) string {
		return `@font-face{font-family:"Go";font-weight:` + weight + `;src:url(data:font/ttf;base64,` + base64.StdEncoding.EncodeToString(ttf) + `) format("truetype")}` + "\n"
	}
	return `<style>` + "\n" + face("400", goregular.TTF) + face("700", gobold.TTF) + `</style>` + svgStyle
})

// paintPNG paints d and encodes it as PNG.
func paintPNG(d drawing) ([]byte, error) {
	f, err := newFaces()
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, d.width(), d.height()))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	p := painter{img: img, faces: f}
	bottom := axisHeight + d.rowsHeight()

	// Rules first, under the lanes; then the axis' labels.
	for _, t := range d.Months {
		p.vline(t.X, axisHeight-6, bottom, 1, rgb(monthColour), 0)
	}
	for _, t := range d.Years {
		p.vline(t.X, axisHeight-6, bottom, 1, rgb(gridColour), 0)
		if t.Text != "" {
			p.text(f.bold, t.X+3, 14, t.Text, rgb(textColour), d.width())
		}
	}
	for _, t := range d.Months {
		if t.Text != "" {
			p.text(f.text, t.X+3, 29, t.Text, rgb(textColour), d.width())
		}
	}
	for _, r := range d.Reforms {
		p.vline(r.X, 34, bottom, 2, rgb(reformColour), 6)
		p.text(f.bold, r.X+3, 45+r.Row*15, r.Text, rgb(reformColour), d.width())
	}
	if d.Today != nil {
		p.vline(d.Today.X, axisHeight-6, bottom, 2, rgb(todayColour), 2)
	}

	y := axisHeight
	if d.None != "" {
		p.text(f.text, 8, y+15, d.None, rgb(textColour), d.width())
	}
	for _, r := range d.Rows {
		if r.Heading != "" {
			p.text(f.heading, 4, y+groupGap-8, r.Heading, rgb(textColour), d.width())
			y += groupGap
			continue
		}
		cy := y + laneHeight/2
		if d.Label > labelWidth/2 {
			p.text(f.text, 6, cy+4, laneText(r), rgb(textColour), d.Label-4)
		}
		for _, s := range r.Spells {
			x2 := max(s.X2, s.X1+2)
			if s.Paused {
				p.hatch(s.X1, cy-7, x2, cy+7)
				p.outline(s.X1, cy-7, x2, cy+7, rgb(pausedOutline), 4)
			} else {
				p.rect(s.X1, cy-7, x2, cy+7, rgb(spellFill))
				p.outline(s.X1, cy-7, x2, cy+7, rgb(spellOutline), 0)
			}
		}
		for _, m := range r.Markers {
			p.marker(m.Kind, m.X, cy)
		}
		y += laneHeight
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("encode timeline PNG: %w", err)
	}
	return out.Bytes(), nil
}

// rgb parses a colour written #rrggbb.
func rgb(s string) color.RGBA {
	v, _ := strconv.ParseUint(s[1:], 16, 32) // the colours are constants
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// painter paints on one image.
type painter struct {
	img   *image.RGBA
	faces faces
	r     vector.Rasterizer
}

// rect fills x1 ≤ x < x2, y1 ≤ y < y2.
func (p *painter) rect(x1, y1, x2, y2 int, c color.RGBA) {
	draw.Draw(p.img, image.Rect(x1, y1, x2, y2), image.NewUniform(c), image.Point{}, draw.Src)
}

// vline draws a vertical line centred on x, w pixels wide, from y1 to y2,
// dashed (dash on, dash/2 off) when dash > 0.
func (p *painter) vline(x, y1, y2, w int, c color.RGBA, dash int) {
	x0 := x - w/2
	if dash == 0 {
		p.rect(x0, y1, x0+w, y2, c)
		return
	}
	for y := y1; y < y2; y += dash + (dash+1)/2 {
		p.rect(x0, y, x0+w, min(y+dash, y2), c)
	}
}

// outline draws a rectangle's edge one pixel wide, dashed (dash on, dash/2
// off) when dash > 0.
func (p *painter) outline(x1, y1, x2, y2 int, c color.RGBA, dash int) {
	step := 1
	if dash > 0 {
		step = dash + (dash+1)/2
	}
	on := max(dash, 1)
	for x := x1; x < x2; x += step {
		p.rect(x, y1, min(x+on, x2), y1+1, c)
		p.rect(x, y2-1, min(x+on, x2), y2, c)
	}
	for y := y1; y < y2; y += step {
		p.rect(x1, y, x1+1, min(y+on, y2), c)
		p.rect(x2-1, y, x2, min(y+on, y2), c)
	}
}

// hatch fills a paused spell: the light fill crossed by diagonal lines of
// the paused outline's colour, as the SVG's pattern.
func (p *painter) hatch(x1, y1, x2, y2 int) {
	fill, line := rgb(pausedFill), rgb(pausedOutline)
	b := p.img.Bounds()
	for y := max(y1, b.Min.Y); y < min(y2, b.Max.Y); y++ {
		for x := max(x1, b.Min.X); x < min(x2, b.Max.X); x++ {
			c := fill
			if (x+y)%6 < 2 {
				c = line
			}
			p.img.SetRGBA(x, y, c)
		}
	}
}

// markerBox is half the side of the square a marker is painted in.
const markerBox = 9

// marker paints kind's shape centred on x, y.
func (p *painter) marker(k *markerKind, x, y int) {
	box := image.Rect(x-markerBox, y-markerBox, x+markerBox, y+markerBox)
	if !box.In(p.img.Bounds()) {
		return
	}
	c := rgb(k.Color)
	if k.Circle > 0 {
		p.fill(box, c, circle(k.Circle))
		if k.Ring {
			p.fill(box, color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}, circle(k.Circle-2.5))
		}
		return
	}
	p.fill(box, c, k.Polys...)
}

// fill fills polygons centred in box.
func (p *painter) fill(box image.Rectangle, c color.RGBA, polys ...[]point) {
	p.r.Reset(box.Dx(), box.Dy())
	for _, poly := range polys {
		for i, pt := range poly {
			x, y := float32(pt.X+markerBox), float32(pt.Y+markerBox)
			if i == 0 {
				p.r.MoveTo(x, y)
			} else {
				p.r.LineTo(x, y)
			}
		}
		p.r.ClosePath()
	}
	p.r.Draw(p.img, box, image.NewUniform(c), image.Point{})
}

// circle is a circle of radius r as a polygon.
func circle(r float64) []point {
	const n = 32
	out := make([]point, n)
	for i := range out {
		a := 2 * math.Pi * float64(i) / n
		out[i] = point{r * math.Cos(a), r * math.Sin(a)}
	}
	return out
}

// text writes s with its baseline at y from x, cut at the right edge
// maxX.
func (p *painter) text(face font.Face, x, y int, s string, c color.RGBA, maxX int) {
	clip := p.img.SubImage(image.Rect(x, 0, maxX, p.img.Bounds().Max.Y)).(*image.RGBA)
	d := font.Drawer{Dst: clip, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
