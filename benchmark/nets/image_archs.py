"""The image architectures every image family is built for, by name."""
from benchmark.nets.celeba import CELEBA
from benchmark.nets.cifar10 import CIFAR10
from benchmark.nets.mnist import MNIST
from benchmark.nets.svhn import SVHN

IMAGE_ARCHS = (MNIST, SVHN, CIFAR10, CELEBA)
