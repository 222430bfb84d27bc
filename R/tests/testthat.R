library(testthat)
library(sddcell)
test_check("sddcell")
