module flywheel

go 1.26.8
