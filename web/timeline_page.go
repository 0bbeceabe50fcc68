package web

import (
	"html/template"
	"strconv"
)

// pageWords are the words pageTimeline writes around the drawing: the
// frame's name, the link that shows the list, the list's heading.
type pageWords struct{ Region, Show, List string }

// pageTimeline writes a municipality's drawing for its page:
//
//	div.tl
//	  svg.tl-defs                 the markers' shapes, used by every lane and the legend
//	  div.tl-frame (region)       scrolls both ways, at most a screen high
//	    div.tl-grid
//	      div.tl-head             sticks to the frame's top: corner + svg.tl-axis
//	      div.tl-body
//	        svg.tl-rules          years, months, reforms, today, behind the rows
//	        div.tl-row            h3.tl-group: a group's heading, or
//	        div.tl-row            a.tl-label (sticks to the left) + svg.tl-lane
//	  p.tl-events-link            shows the list
//	  section.tl-events           every marker's description, by lane
//
// A marker is a link to its description in the list (#ev-N), named by it
// (aria-labelledby): Tab reaches every marker, lane by lane, and a screen
// reader says the event in full. The list is out of sight until a link
// leads into it (CSS :target), so following a marker shows its
// description without a mouse. (It is not a closed <details>: Chromium
// names nothing by an element inside one.) With the script, hovering or
// focusing a marker shows its description beside it at once.
// Heights are fixed (laneHeight, groupGap) so that the labels' HTML rows
// and the lanes' SVGs line up.
func pageTimeline(d drawing, words pageWords) template.HTML {
	n := 0
	for _, r := range d.Rows {
		n += len(r.Markers)
	}
	b := make([]byte, 0, 4096+len(d.Rows)*700+n*220)
	plot := int64(d.Plot + rightPad)
	b = append(b, `<div class="tl"><svg class="tl-defs" width="0" height="0" aria-hidden="true" focusable="false">`...)
	b = append(b, defsMarkup...)
	b = append(b, `</svg><div class="tl-frame" tabindex="0" role="region" aria-label="`...)
	b = escapeText(b, words.Region)
	b = append(b, `"><div class="tl-grid"><div class="tl-head"><div class="tl-corner"></div><svg class="tl-axis" aria-hidden="true" width="`...)
	b = strconv.AppendInt(b, plot, 10)
	b = append(b, `" height="`...)
	b = strconv.AppendInt(b, axisHeight, 10)
	b = append(b, `">`...)
	b = appendAxis(b, d, -d.Label)
	b = append(b, `</svg></div><div class="tl-body"><svg class="tl-rules" aria-hidden="true" width="`...)
	b = strconv.AppendInt(b, plot, 10)
	b = append(b, `" height="`...)
	rows := d.rowsHeight()
	b = strconv.AppendInt(b, int64(rows), 10)
	b = append(b, `">`...)
	b = appendRules(b, d, -d.Label, 0, rows)
	b = append(b, `</svg>`...)
	if d.None != "" {
		b = append(b, `<p class="tl-none">`...)
		b = escapeText(b, d.None)
		b = append(b, `</p>`...)
	}
	event := 0
	for i, r := range d.Rows {
		if r.Heading != "" {
			b = append(b, `<div class="tl-row"><h3 class="tl-group">`...)
			b = escapeText(b, r.Heading)
			b = append(b, `</h3></div>`...)
			continue
		}
		lane := strconv.Itoa(i)
		b = append(b, `<div class="tl-row"><a class="tl-label" id="ln-`...)
		b = append(b, lane...)
		b = append(b, `" href="/p/`...)
		b = escapeText(b, r.ID)
		b = append(b, `" title="`...)
		b = escapeText(b, r.Title)
		b = append(b, `"><span class="tl-name">`...)
		b = escapeText(b, r.Name)
		b = append(b, `</span>`...)
		if r.OldCode != "" {
			b = append(b, ` <span class="tl-old">(`...)
			b = escapeText(b, r.OldCode)
			b = append(b, `)</span>`...)
		}
		b = append(b, `</a><svg class="tl-lane `...)
		b = escapeText(b, r.Status)
		b = append(b, `" role="group" aria-labelledby="ln-`...)
		b = append(b, lane...)
		b = append(b, `" width="`...)
		b = strconv.AppendInt(b, plot, 10)
		b = append(b, `" height="`+strconv.Itoa(laneHeight)+`">`...)
		b = appendSpells(b, r, -d.Label, laneHeight/2-7)
		for _, m := range r.Markers {
			event++
			id := strconv.Itoa(event)
			b = append(b, `<a href="#ev-`...)
			b = append(b, id...)
			b = append(b, `" aria-labelledby="ev-`...)
			b = append(b, id...)
			b = append(b, `"><use href="#`...)
			b = append(b, m.Kind.ID...)
			b = append(b, `" x="`...)
			b = strconv.AppendInt(b, int64(m.X-d.Label), 10)
			b = append(b, `" y="`+strconv.Itoa(laneHeight/2)+`"/></a>`...)
		}
		b = append(b, `</svg></div>`...)
	}
	b = append(b, `</div></div></div>`...)

	if event > 0 {
		b = append(b, `<p class="tl-events-link"><a href="#tl-events">`...)
		b = escapeText(b, words.Show)
		b = append(b, `</a></p><section class="tl-events" id="tl-events" aria-labelledby="tl-events-h"><h2 id="tl-events-h">`...)
		b = escapeText(b, words.List)
		b = append(b, `</h2><ul>`...)
		event = 0
		for _, r := range d.Rows {
			if len(r.Markers) == 0 {
				continue
			}
			b = append(b, `<li><span class="tl-ev-lane">`...)
			b = escapeText(b, r.Name)
			if r.OldCode != "" {
				b = append(b, ` (`...)
				b = escapeText(b, r.OldCode)
				b = append(b, ')')
			}
			b = append(b, `</span><ol>`...)
			for _, m := range r.Markers {
				event++
				b = append(b, `<li id="ev-`...)
				b = strconv.AppendInt(b, int64(event), 10)
				b = append(b, `">`...)
				b = escapeText(b, m.Text)
				b = append(b, `</li>`...)
			}
			b = append(b, `</ol></li>`...)
		}
		b = append(b, `</ul></section>`...)
	}
	b = append(b, `</div>`...)
	// The bytes are built from escaped text and fixed markup only.
	return template.HTML(b) //nolint:gosec // escaped above
}
