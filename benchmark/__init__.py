"""Reference benchmark suite for adversarially learned inference and hybrid VAE-GAN models."""
