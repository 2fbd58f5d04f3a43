module flywheel

go 1.26.8

require (
	github.com/ardanlabs/jinja v1.8.0
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)
